# The official ResNet schedule over 200k iterations (ADE20K-Full,
# Base-ADE20KFull-847.yaml): evaluation every 5000 iterations.
_base_ = ['./schedule_160k_adamw.py']
param_scheduler = [
    dict(type='PolyLR', eta_min=0, power=0.9, begin=0, end=200000,
         by_epoch=False)
]
train_cfg = dict(max_iters=200000, val_interval=5000)
default_hooks = dict(checkpoint=dict(interval=20000))
