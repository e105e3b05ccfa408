# Mask2Former R101, Cityscapes panoptic (19 classes, things 11-18),
# crop 512x1024, batch 16, 90k iterations (poly), 100 queries,
# thresholds 0.8/0.8; panoptic, semantic and instance outputs, scored
# by CocoPanopticMetric. The things are given by label (thing_classes):
# mmdet keeps the JSON's category order, the official contiguous one.
# Official (62.4 PQ, 37.7 AP, 78.6 mIoU):
# configs/cityscapes/panoptic-segmentation/maskformer2_R101_bs16_90k.yaml
# Trainable SyncBN in the ResNet (official Cityscapes NORM "SyncBN": statistics
# and affine trained).
_base_ = [
    './_base_/models/mask2former_r50_panoptic.py',
    './_base_/datasets/cityscapes_panoptic_mask2former.py',
    './_base_/default_runtime_panoptic.py',
    './_base_/schedules/schedule_mask2former_90k_panoptic.py',
]
model = dict(
    backbone=dict(
        depth=101,
        norm_cfg=dict(type='SyncBN', requires_grad=True),
        norm_eval=False,
        init_cfg=dict(
            type='Pretrained',
            checkpoint='data/pretrained/resnet101_torchvision.pth')),
    num_things=None,
    thing_classes={{_base_.thing_labels}},
    panoptic_head=dict(
        num_classes=19))
