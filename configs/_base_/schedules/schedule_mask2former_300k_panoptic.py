# The official Mask2Former Mapillary Vistas schedule (panoptic) on mmdet's
# data path: schedule_mask2former_160k_panoptic.py over 300k iterations,
# one validation at the end (official TEST.EVAL_PERIOD 0).
_base_ = ['./schedule_mask2former_160k_panoptic.py']
max_iters = 300000
param_scheduler = [
    dict(
        type='PolyLR', eta_min=0, power=0.9, begin=0, end=max_iters,
        by_epoch=False)
]
train_cfg = dict(max_iters=max_iters, val_interval=max_iters)
