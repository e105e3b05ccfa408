# The official Mask2Former Cityscapes schedule (panoptic and instance) on
# mmdet's data path: schedule_mask2former_160k_panoptic.py over 90k
# iterations (poly LR, evaluation every 5000).
_base_ = ['./schedule_mask2former_160k_panoptic.py']
max_iters = 90000
param_scheduler = [
    dict(
        type='PolyLR', eta_min=0, power=0.9, begin=0, end=max_iters,
        by_epoch=False)
]
train_cfg = dict(max_iters=max_iters)
