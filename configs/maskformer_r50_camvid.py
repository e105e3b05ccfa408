# MaskFormer R50 on CamVid (11 classes, 360x480 frames), trained from scratch
# (no pretrained weights can be downloaded here): the exact R50 model with a
# trainable-BN backbone, official augmentation at crop 352x480, AdamW.
# Data are read in place: data_root (default ../shared/data/camvid) can be
# overridden with --cfg-options data_root=... train_dataloader.dataset.data_root=...
_base_ = [
    './_base_/models/maskformer_r50.py',
    './_base_/default_runtime.py',
]
data_root = '../shared/data/camvid'
crop_size = (352, 480)
max_iters = 20000
model = dict(
    data_preprocessor=dict(size=crop_size),
    backbone=dict(
        norm_cfg=dict(type='BN', requires_grad=True),
        norm_eval=False,
        init_cfg=None),
    decode_head=dict(num_classes=11))
train_pipeline = [
    dict(type='mmmaskformer.LoadCheckedImage'),
    dict(type='mmmaskformer.LoadCheckedAnnotations'),
    dict(
        type='RandomChoiceResize',
        scales=[int(360 * x * 0.1) for x in range(5, 21)],
        resize_type='ResizeShortestEdge',
        max_size=1920),
    dict(type='RandomCrop', crop_size=crop_size, cat_max_ratio=1.0),
    dict(type='PhotoMetricDistortion'),
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
    num_workers=4,
    persistent_workers=True,
    sampler=dict(type='mmmaskformer.PositionalInfiniteSampler', shuffle=True),
    dataset=dict(
        type='mmmaskformer.CamVidDataset',
        data_root=data_root,
        data_prefix=dict(img_path='images/train', seg_map_path='labels/train'),
        pipeline=train_pipeline))
val_dataloader = dict(
    batch_size=1,
    num_workers=2,
    persistent_workers=True,
    sampler=dict(type='DefaultSampler', shuffle=False),
    dataset=dict(
        type='mmmaskformer.CamVidDataset',
        data_root=data_root,
        data_prefix=dict(img_path='images/val', seg_map_path='labels/val'),
        pipeline=test_pipeline))
test_dataloader = val_dataloader
val_evaluator = dict(type='mmmaskformer.WideLabelIoUMetric', iou_metrics=['mIoU'])
test_evaluator = val_evaluator
optim_wrapper = dict(
    type='mmmaskformer.FiniteLossOptimWrapper',
    optimizer=dict(type='AdamW', lr=1e-4, betas=(0.9, 0.999),
                   weight_decay=1e-4),
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
    logger=dict(type='LoggerHook', interval=50, log_metric_by_epoch=False),
    checkpoint=dict(
        type='mmmaskformer.AtomicCheckpointHook', by_epoch=False, interval=max_iters,
        max_keep_ckpts=1))
randomness = dict(seed=0)
