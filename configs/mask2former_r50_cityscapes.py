# Mask2Former R50, Cityscapes (19 classes), crop 512x1024, batch 16,
# 90k iterations (poly), 100 queries, test on the whole 1024x2048 image.
# Official (79.4 mIoU, 82.2 multi-scale):
# configs/cityscapes/semantic-segmentation/maskformer2_R50_bs16_90k.yaml
# Trainable SyncBN in the ResNet (official Cityscapes NORM "SyncBN": statistics
# and affine trained).
_base_ = [
    './_base_/models/mask2former_r50.py',
    './_base_/datasets/cityscapes_maskformer.py',
    './_base_/default_runtime.py',
    './_base_/schedules/schedule_mask2former_90k.py',
]
crop_size = (512, 1024)
model = dict(
    backbone=dict(
        norm_cfg=dict(type='SyncBN', requires_grad=True),
        norm_eval=False),
    data_preprocessor=dict(size=crop_size),
    decode_head=dict(
        num_classes=19))
