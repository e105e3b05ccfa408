# Official COCO panoptic schedule: AdamW lr 1e-4, wd 1e-4, backbone lr x0.1,
# no decay on norms and the query embedding, gradient-norm clipping at 0.01,
# 554,400 iterations at batch 64 (~300 epochs), lr x0.1 at 2/3 (369,600),
# no warm-up (detectron2 WARMUP_ITERS 10 at factor 1.0).
optim_wrapper = dict(
    type='mmmaskformer.FiniteLossOptimWrapper',
    optimizer=dict(
        type='AdamW', lr=1e-4, betas=(0.9, 0.999), eps=1e-8,
        weight_decay=1e-4),
    clip_grad=dict(max_norm=0.01, norm_type=2),
    # the official parameter groups (mmmaskformer/engine/optim_constructor.py)
    constructor='mmmaskformer.MaskFormerOptimWrapperConstructor',
    paramwise_cfg=dict(backbone_lr_mult=0.1))
max_iters = 554400
param_scheduler = [
    dict(
        type='MultiStepLR', begin=0, end=max_iters, by_epoch=False,
        milestones=[369600], gamma=0.1)
]
train_cfg = dict(
    type='mmmaskformer.ResumableIterBasedTrainLoop', max_iters=max_iters, val_interval=50000)
val_cfg = dict(type='mmmaskformer.CheckedValLoop')
test_cfg = dict(type='mmmaskformer.CheckedTestLoop')
# batch 64 = 64 GPUs x 1 image (official); with fewer GPUs raise
# train_dataloader.batch_size so that GPUs x batch_size = 64.
auto_scale_lr = dict(enable=False, base_batch_size=64)
