# The official Mask2Former Mapillary Vistas schedule for the semantic
# configs: the ADE20K one (schedule_mask2former_160k.py) with the poly LR
# over 300k iterations. The official config evaluates only after training
# (TEST.EVAL_PERIOD 0): one validation at the last iteration.
_base_ = ['./schedule_mask2former_160k.py']
max_iters = 300000
param_scheduler = [
    dict(
        type='PolyLR', eta_min=0, power=0.9, begin=0, end=max_iters,
        by_epoch=False)
]
train_cfg = dict(max_iters=max_iters, val_interval=max_iters)
