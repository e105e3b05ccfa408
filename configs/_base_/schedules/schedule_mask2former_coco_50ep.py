# Official Mask2Former COCO schedule (panoptic and instance): AdamW lr 1e-4,
# wd 0.05, backbone lr x0.1 (Swin included), no decay on norms and the
# nn.Embedding's, decay on biases and the pixel decoder's level_embed,
# full-model clipping at 0.01, AMP, 368,750 iterations at batch 16
# (50 epochs), lr x0.1 at 327,778 and 355,092, no warm-up (detectron2
# WARMUP_ITERS 10 at factor 1.0); evaluation every 5000 iterations.
# AMP needs a GPU (see schedule_mask2former_160k.py for the CPU switch).
max_iters = 368750
milestones = [327778, 355092]
optim_wrapper = dict(
    type='mmmaskformer.FiniteLossAmpOptimWrapper',
    loss_scale='dynamic',
    optimizer=dict(
        type='AdamW', lr=1e-4, betas=(0.9, 0.999), eps=1e-8,
        weight_decay=0.05),
    clip_grad=dict(max_norm=0.01, norm_type=2),
    constructor='mmmaskformer.MaskFormerOptimWrapperConstructor',
    paramwise_cfg=dict(backbone_lr_mult=0.1))
param_scheduler = [
    dict(
        type='MultiStepLR', begin=0, end=max_iters, by_epoch=False,
        milestones=milestones, gamma=0.1)
]
train_cfg = dict(type='mmmaskformer.ResumableIterBasedTrainLoop',
                 max_iters=max_iters, val_interval=5000)
val_cfg = dict(type='mmmaskformer.CheckedValLoop')
test_cfg = dict(type='mmmaskformer.CheckedTestLoop')
# batch 16 = 8 GPUs x 2 images (official); with other GPU counts set
# train_dataloader.batch_size so that GPUs x batch_size = 16.
auto_scale_lr = dict(enable=False, base_batch_size=16)
