# Mask2Former Swin-B (IN-22K, 384), Cityscapes panoptic (19 classes, things 11-18),
# crop 512x1024, batch 16, 90k iterations (poly), 100 queries,
# thresholds 0.8/0.8; panoptic, semantic and instance outputs, scored
# by CocoPanopticMetric. The things are given by label (thing_classes):
# mmdet keeps the JSON's category order, the official contiguous one.
# Official (66.1 PQ, 42.8 AP, 82.7 mIoU):
# configs/cityscapes/panoptic-segmentation/swin/maskformer2_swin_base_IN21k_384_bs16_90k.yaml
_base_ = [
    './_base_/models/mask2former_swin_panoptic.py',
    './_base_/datasets/cityscapes_panoptic_mask2former.py',
    './_base_/default_runtime_panoptic.py',
    './_base_/schedules/schedule_mask2former_90k_panoptic.py',
]
model = dict(
    backbone=dict(
        pretrain_img_size=384,
        embed_dims=128,
        window_size=12,
        depths=[2, 2, 18, 2],
        num_heads=[4, 8, 16, 32],
        init_cfg=dict(
            type='Pretrained',
            checkpoint='data/pretrained/swin_base_patch4_window12_384_22k.pth')),
    num_things=None,
    thing_classes={{_base_.thing_labels}},
    panoptic_head=dict(
        in_channels=[128, 256, 512, 1024],
        num_classes=19))
