# The official ResNet schedule over 60k iterations (COCO-Stuff-10K).
_base_ = ['./schedule_160k_adamw.py']
param_scheduler = [
    dict(type='PolyLR', eta_min=0, power=0.9, begin=0, end=60000,
         by_epoch=False)
]
train_cfg = dict(max_iters=60000, val_interval=6000)
default_hooks = dict(checkpoint=dict(interval=6000))
