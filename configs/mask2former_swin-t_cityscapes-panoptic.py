# Mask2Former Swin-T (IN-1K, 224), Cityscapes panoptic (19 classes, things 11-18),
# crop 512x1024, batch 16, 90k iterations (poly), 100 queries,
# thresholds 0.8/0.8; panoptic, semantic and instance outputs, scored
# by CocoPanopticMetric. The things are given by label (thing_classes):
# mmdet keeps the JSON's category order, the official contiguous one.
# Official (63.9 PQ, 39.1 AP, 80.5 mIoU):
# configs/cityscapes/panoptic-segmentation/swin/maskformer2_swin_tiny_bs16_90k.yaml
_base_ = [
    './_base_/models/mask2former_swin_panoptic.py',
    './_base_/datasets/cityscapes_panoptic_mask2former.py',
    './_base_/default_runtime_panoptic.py',
    './_base_/schedules/schedule_mask2former_90k_panoptic.py',
]
model = dict(
    backbone=dict(
        pretrain_img_size=224,
        embed_dims=96,
        window_size=7,
        depths=[2, 2, 6, 2],
        num_heads=[3, 6, 12, 24],
        init_cfg=dict(
            type='Pretrained',
            checkpoint='data/pretrained/swin_tiny_patch4_window7_224.pth')),
    num_things=None,
    thing_classes={{_base_.thing_labels}},
    panoptic_head=dict(
        in_channels=[96, 192, 384, 768],
        num_classes=19))
