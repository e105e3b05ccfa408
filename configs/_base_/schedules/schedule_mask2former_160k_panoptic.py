# The official Mask2Former poly schedule (ADE20K panoptic and instance) for
# the configs on mmdet's data path: the optimiser, groups, clipping and AMP
# of schedule_mask2former_coco_50ep.py (the same as the semantic
# schedule_mask2former_160k.py) with the poly LR (power 0.9, no warm-up)
# over 160k iterations; evaluation every 5000 (official EVAL_PERIOD 5000).
# No hooks here: the runtime is mmdet's (default_runtime_panoptic.py).
_base_ = ['./schedule_mask2former_coco_50ep.py']
max_iters = 160000
param_scheduler = [
    dict(
        type='PolyLR', eta_min=0, power=0.9, begin=0, end=max_iters,
        by_epoch=False)
]
train_cfg = dict(max_iters=max_iters, val_interval=5000)
