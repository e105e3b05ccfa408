# Official Swin schedule: AdamW lr 6e-5, wd 0.01, backbone lr x1.0, no decay
# on norms, the query embedding and the relative position tables; linear
# warm-up over 1500 iterations from 1e-6 multiplied into poly(0.9) over the
# whole run, as detectron2's WarmupPolyLR.
_base_ = ['./schedule_160k_adamw.py']
optim_wrapper = dict(
    optimizer=dict(lr=6e-5, weight_decay=0.01),
    paramwise_cfg=dict(_delete_=True, backbone_lr_mult=1.0))
param_scheduler = [
    dict(
        type='LinearLR', start_factor=1e-6, by_epoch=False, begin=0,
        end=1500),
    dict(
        type='PolyLR', eta_min=0, power=0.9, begin=0, end=160000,
        by_epoch=False)
]
