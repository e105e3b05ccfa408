# The official ResNet schedule over 90k iterations (Cityscapes).
_base_ = ['./schedule_160k_adamw.py']
param_scheduler = [
    dict(type='PolyLR', eta_min=0, power=0.9, begin=0, end=90000,
         by_epoch=False)
]
train_cfg = dict(max_iters=90000, val_interval=9000)
default_hooks = dict(checkpoint=dict(interval=9000))
