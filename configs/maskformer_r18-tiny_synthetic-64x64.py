# The embedded default: a small MaskFormer trained from scratch on the
# generated shapes dataset (tools/demo.py writes it to data/synthetic) in a
# few minutes on 2 CPU cores. Same head, matcher, criterion and inference as
# the paper configs; only the sizes are small.
_base_ = ['./_base_/default_runtime.py',
          './_base_/models/maskformer_parts.py']

data_root = 'data/synthetic'
crop_size = (64, 64)
num_classes = 6
max_iters = 1500

data_preprocessor = dict(
    type='SegDataPreProcessor',
    mean=[123.675, 116.28, 103.53],
    std=[58.395, 57.12, 57.375],
    bgr_to_rgb=True,
    pad_val=0,
    seg_pad_val=255,
    size=crop_size,
    test_cfg=dict(size_divisor=32))
model = dict(
    type='EncoderDecoder',
    data_preprocessor=data_preprocessor,
    backbone=dict(
        type='ResNet',
        depth=18,
        stem_channels=16,
        base_channels=16,
        num_stages=4,
        out_indices=(0, 1, 2, 3),
        strides=(1, 2, 2, 2),
        dilations=(1, 1, 1, 1),
        norm_cfg=dict(type='BN', requires_grad=True),  # from scratch
        norm_eval=False,
        style='pytorch'),
    decode_head=dict(
        type='mmmaskformer.MaskFormerHead',
        num_classes=num_classes,
        in_channels=[16, 32, 64, 128],
        ignore_index=255,
        pixel_decoder=dict(type='mmmaskformer.FPNPixelDecoder', conv_dim=64, mask_dim=64),
        transformer_decoder=dict(
            type='mmmaskformer.DETRTransformerDecoder',
            hidden_dim=64,
            num_queries=20,
            num_heads=4,
            dim_feedforward=256,
            dropout=0.0,
            num_layers=3),
        criterion={{_base_.maskformer_criterion}}),
    train_cfg=dict(),
    test_cfg=dict(mode='whole', semantic_inference='probabilistic'))

train_pipeline = [
    dict(type='mmmaskformer.LoadCheckedImage'),
    dict(type='mmmaskformer.LoadCheckedAnnotations'),
    dict(type='RandomFlip', prob=0.5),
    dict(type='mmmaskformer.AddLabelLists'),
    dict(type='PackSegInputs',
         meta_keys=('img_path', 'seg_map_path', 'ori_shape', 'img_shape', 'pad_shape',
                   'scale_factor', 'flip', 'flip_direction', 'reduce_zero_label',
                   'seg_labels'))
]
test_pipeline = [
    dict(type='mmmaskformer.LoadCheckedImage'),
    dict(type='mmmaskformer.LoadCheckedAnnotations'),
    dict(type='PackSegInputs')
]
tta_pipeline = [
    dict(type='mmmaskformer.LoadCheckedImage'),
    dict(
        type='TestTimeAug',
        transforms=[[dict(type='Resize', scale_factor=r, keep_ratio=True)
                     for r in (0.75, 1.0, 1.25)],
                    [
                        dict(type='RandomFlip', prob=0., direction='horizontal'),
                        dict(type='RandomFlip', prob=1., direction='horizontal')
                    ], [dict(type='mmmaskformer.LoadCheckedAnnotations')],
                    [dict(type='PackSegInputs')]])
]
train_dataloader = dict(
    batch_size=8,
    num_workers=1,
    persistent_workers=True,
    sampler=dict(type='mmmaskformer.PositionalInfiniteSampler', shuffle=True),
    dataset=dict(
        type='mmmaskformer.SyntheticShapesDataset',
        data_root=data_root,
        data_prefix=dict(img_path='img_dir/train', seg_map_path='ann_dir/train'),
        pipeline=train_pipeline))
val_dataloader = dict(
    batch_size=1,
    num_workers=1,
    persistent_workers=True,
    sampler=dict(type='DefaultSampler', shuffle=False),
    dataset=dict(
        type='mmmaskformer.SyntheticShapesDataset',
        data_root=data_root,
        data_prefix=dict(img_path='img_dir/val', seg_map_path='ann_dir/val'),
        pipeline=test_pipeline))
test_dataloader = val_dataloader
val_evaluator = dict(type='mmmaskformer.WideLabelIoUMetric', iou_metrics=['mIoU'])
test_evaluator = val_evaluator

# official recipe (AdamW, no decay on norms/queries, clip 0.01, poly 0.9)
# with a larger learning rate for a from-scratch run of a few minutes
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
default_hooks = dict(
    timer=dict(type='IterTimerHook'),
    logger=dict(type='LoggerHook', interval=50, log_metric_by_epoch=False),
    param_scheduler=dict(type='ParamSchedulerHook'),
    checkpoint=dict(
        type='mmmaskformer.AtomicCheckpointHook', by_epoch=False, interval=500, max_keep_ckpts=2),
    sampler_seed=dict(type='DistSamplerSeedHook'),
    visualization=dict(type='SegVisualizationHook'))
randomness = dict(seed=0)
env_cfg = dict(cudnn_benchmark=False)
