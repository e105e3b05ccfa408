# The official Mask2Former Cityscapes schedule for the semantic configs: the
# ADE20K one (schedule_mask2former_160k.py: AdamW 1e-4, wd 0.05, backbone
# x0.1, the official parameter groups, clip 0.01, AMP) with the poly LR
# (power 0.9, no warm-up) over 90k iterations; evaluation every 5000
# (official EVAL_PERIOD 5000).
_base_ = ['./schedule_mask2former_160k.py']
max_iters = 90000
param_scheduler = [
    dict(
        type='PolyLR', eta_min=0, power=0.9, begin=0, end=max_iters,
        by_epoch=False)
]
train_cfg = dict(max_iters=max_iters)
