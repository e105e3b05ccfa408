# Official ResNet schedule: AdamW lr 1e-4, wd 1e-4, backbone lr x0.1, no
# weight decay on norms and the query embedding, full-model gradient-norm
# clipping at 0.01, poly LR (power 0.9) over 160k iterations, no warm-up.
optim_wrapper = dict(
    type='mmmaskformer.FiniteLossOptimWrapper',
    optimizer=dict(
        type='AdamW', lr=1e-4, betas=(0.9, 0.999), eps=1e-8,
        weight_decay=1e-4),
    clip_grad=dict(max_norm=0.01, norm_type=2),
    # the official parameter groups (mmmaskformer/engine/optim_constructor.py)
    constructor='mmmaskformer.MaskFormerOptimWrapperConstructor',
    paramwise_cfg=dict(backbone_lr_mult=0.1))
param_scheduler = [
    dict(
        type='PolyLR', eta_min=0, power=0.9, begin=0, end=160000,
        by_epoch=False)
]
train_cfg = dict(type='mmmaskformer.ResumableIterBasedTrainLoop', max_iters=160000,
                 val_interval=16000)
val_cfg = dict(type='mmmaskformer.CheckedValLoop')
test_cfg = dict(type='mmmaskformer.CheckedTestLoop')
# mmseg's schedule hooks (its schedule_160k.py), with our atomic checkpoints
default_hooks = dict(
    timer=dict(type='IterTimerHook'),
    logger=dict(type='LoggerHook', interval=50, log_metric_by_epoch=False),
    param_scheduler=dict(type='ParamSchedulerHook'),
    checkpoint=dict(type='mmmaskformer.AtomicCheckpointHook', by_epoch=False, interval=16000),
    sampler_seed=dict(type='DistSamplerSeedHook'),
    visualization=dict(type='SegVisualizationHook'))
