# The embedded default, panoptic: the same small MaskFormer (with the
# transformer-encoder pixel decoder) trained on the generated shapes dataset in
# COCO panoptic format, scored by mmdet's CocoPanopticMetric (PQ/SQ/RQ).
_base_ = ['./_base_/default_runtime_panoptic.py',
          './_base_/models/maskformer_parts.py']

data_root = 'data/synthetic/'
num_things, num_stuff = 3, 3
max_iters = 2000

model = dict(
    type='mmmaskformer.MaskFormerPanoptic',
    num_things=num_things,
    data_preprocessor=dict(
        type='mmdet.DetDataPreprocessor',
        mean=[123.675, 116.28, 103.53],
        std=[58.395, 57.12, 57.375],
        bgr_to_rgb=True,
        pad_size_divisor=32,
        pad_mask=True,
        mask_pad_value=0,
        pad_seg=True,
        seg_pad_value=255),
    backbone=dict(
        type='ResNet',
        depth=18,
        stem_channels=16,
        base_channels=16,
        num_stages=4,
        out_indices=(0, 1, 2, 3),
        strides=(1, 2, 2, 2),
        dilations=(1, 1, 1, 1),
        norm_cfg=dict(type='BN', requires_grad=True),
        norm_eval=False,
        style='pytorch'),
    panoptic_head=dict(
        type='mmmaskformer.MaskFormerHead',
        num_classes=num_things + num_stuff,
        in_channels=[16, 32, 64, 128],
        ignore_index=255,
        pixel_decoder=dict(
            type='mmmaskformer.TransformerEncoderPixelDecoder',
            conv_dim=64,
            mask_dim=64,
            num_encoder_layers=1,
            num_heads=4,
            dim_feedforward=256,
            dropout=0.0),
        transformer_decoder=dict(
            type='mmmaskformer.DETRTransformerDecoder',
            hidden_dim=64,
            num_queries=20,
            num_heads=4,
            dim_feedforward=256,
            dropout=0.0,
            num_layers=3),
        criterion={{_base_.maskformer_criterion}}),
    test_cfg=dict(
        object_mask_threshold=0.8, overlap_threshold=0.8, semantic_on=True))

dataset_type = 'mmmaskformer.SyntheticShapesPanopticDataset'
train_pipeline = [
    dict(type='mmmaskformer.LoadCheckedImage'),
    dict(type='mmmaskformer.LoadCheckedPanopticAnnotations'),
    dict(type='mmmaskformer.DropCrowdInstances'),
    dict(type='mmdet.RandomFlip', prob=0.5),
    dict(type='mmmaskformer.AddLabelLists'),
    dict(type='mmdet.PackDetInputs',
         meta_keys=('img_id', 'img_path', 'ori_shape', 'img_shape', 'scale_factor',
                   'flip', 'flip_direction', 'seg_labels', 'instance_labels'))
]
test_pipeline = [
    dict(type='mmmaskformer.LoadCheckedImage'),
    dict(type='mmmaskformer.LoadCheckedPanopticAnnotations'),
    dict(
        type='mmdet.PackDetInputs',
        meta_keys=('img_id', 'img_path', 'ori_shape', 'img_shape',
                   'scale_factor'))
]
train_dataloader = dict(
    batch_size=8,
    num_workers=1,
    persistent_workers=True,
    sampler=dict(type='mmmaskformer.PositionalInfiniteSampler', shuffle=True),
    dataset=dict(
        type=dataset_type,
        data_root=data_root,
        ann_file='annotations/panoptic_train.json',
        data_prefix=dict(img='img_dir/train/',
                         seg='annotations/panoptic_train/'),
        filter_cfg=dict(filter_empty_gt=False),
        pipeline=train_pipeline))
val_dataloader = dict(
    batch_size=1,
    num_workers=1,
    persistent_workers=True,
    drop_last=False,
    sampler=dict(type='DefaultSampler', shuffle=False),
    dataset=dict(
        type=dataset_type,
        data_root=data_root,
        ann_file='annotations/panoptic_val.json',
        data_prefix=dict(img='img_dir/val/', seg='annotations/panoptic_val/'),
        test_mode=True,
        pipeline=test_pipeline))
test_dataloader = val_dataloader
val_evaluator = dict(
    type='mmdet.CocoPanopticMetric',
    ann_file=data_root + 'annotations/panoptic_val.json',
    seg_prefix=data_root + 'annotations/panoptic_val/',
    nproc=1)
test_evaluator = val_evaluator

optim_wrapper = dict(
    type='mmmaskformer.FiniteLossOptimWrapper',
    optimizer=dict(type='AdamW', lr=3e-4, betas=(0.9, 0.999), weight_decay=1e-4),
    clip_grad=dict(max_norm=0.01, norm_type=2),
    constructor='mmmaskformer.MaskFormerOptimWrapperConstructor',
    paramwise_cfg=dict(backbone_lr_mult=1.0))
param_scheduler = [
    dict(type='PolyLR', eta_min=0, power=0.9, begin=0, end=max_iters,
         by_epoch=False)
]
train_cfg = dict(
    type='mmmaskformer.ResumableIterBasedTrainLoop', max_iters=max_iters, val_interval=max_iters)
val_cfg = dict(type='mmmaskformer.CheckedValLoop')
test_cfg = dict(type='mmmaskformer.CheckedTestLoop')
default_hooks = dict(checkpoint=dict(interval=500, max_keep_ckpts=2))
randomness = dict(seed=0)
