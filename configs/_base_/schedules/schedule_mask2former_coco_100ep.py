# The official Swin-L COCO schedule: as the 50-epoch one, 737,500 iterations
# (100 epochs at batch 16, 16 GPUs x 1 image), lr x0.1 at 655,556 and
# 710,184.
_base_ = ['./schedule_mask2former_coco_50ep.py']
max_iters = 737500
param_scheduler = [
    dict(
        type='MultiStepLR', begin=0, end=max_iters, by_epoch=False,
        milestones=[655556, 710184], gamma=0.1)
]
train_cfg = dict(max_iters=max_iters)
