# Official Mask2Former schedule (ADE20K, every backbone): AdamW lr 1e-4,
# wd 0.05, backbone lr x0.1 (Swin included), no decay on norms and on the
# nn.Embedding's (query_feat, query_embed, the decoder's level_embed) but
# decay on biases and on the pixel decoder's level_embed Parameter,
# full-model gradient-norm clipping at 0.01, AMP (fp16 autocast with a
# dynamic loss scale; the pixel decoder and the losses stay fp32), poly LR
# (power 0.9) over 160k iterations, no warm-up; evaluation every 5000.
# AMP needs a GPU (mmengine's AmpOptimWrapper); for a CPU run, a child
# config replaces optim_wrapper (_delete_=True) with
# type='mmmaskformer.FiniteLossOptimWrapper' and no loss_scale.
max_iters = 160000
optim_wrapper = dict(
    type='mmmaskformer.FiniteLossAmpOptimWrapper',
    loss_scale='dynamic',
    optimizer=dict(
        type='AdamW', lr=1e-4, betas=(0.9, 0.999), eps=1e-8,
        weight_decay=0.05),
    clip_grad=dict(max_norm=0.01, norm_type=2),
    # the official parameter groups (mmmaskformer/engine/optim_constructor.py)
    constructor='mmmaskformer.MaskFormerOptimWrapperConstructor',
    paramwise_cfg=dict(backbone_lr_mult=0.1))
param_scheduler = [
    dict(
        type='PolyLR', eta_min=0, power=0.9, begin=0, end=max_iters,
        by_epoch=False)
]
train_cfg = dict(type='mmmaskformer.ResumableIterBasedTrainLoop',
                 max_iters=max_iters, val_interval=5000)
val_cfg = dict(type='mmmaskformer.CheckedValLoop')
test_cfg = dict(type='mmmaskformer.CheckedTestLoop')
default_hooks = dict(
    timer=dict(type='IterTimerHook'),
    logger=dict(type='LoggerHook', interval=50, log_metric_by_epoch=False),
    param_scheduler=dict(type='ParamSchedulerHook'),
    checkpoint=dict(type='mmmaskformer.AtomicCheckpointHook', by_epoch=False,
                    interval=5000, max_keep_ckpts=3),
    sampler_seed=dict(type='DistSamplerSeedHook'),
    visualization=dict(type='SegVisualizationHook'))
# batch 16 = 8 GPUs x 2 images (official IMS_PER_BATCH 16)
auto_scale_lr = dict(enable=False, base_batch_size=16)
