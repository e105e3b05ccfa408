# Mask2Former R101, ADE20K-150, crop 512, batch 16, 160k iterations, 100 queries.
# Official (47.8 mIoU):
# configs/ade20k/semantic-segmentation/maskformer2_R101_bs16_90k.yaml
# Trainable SyncBN (the official R101 ADE20K config; its file name says
# 90k but MAX_ITER 160k is inherited).
_base_ = [
    './_base_/models/mask2former_r50.py',
    './_base_/datasets/ade20k_maskformer.py',
    './_base_/default_runtime.py',
    './_base_/schedules/schedule_mask2former_160k.py',
]
model = dict(
    backbone=dict(
        depth=101,
        norm_cfg=dict(type='SyncBN', requires_grad=True),
        norm_eval=False,
        init_cfg=dict(
            type='Pretrained',
            checkpoint='data/pretrained/resnet101_torchvision.pth')))
