# Mask2Former Swin-B (IN-1K, 384), COCO instance, LSJ 1024, batch 16, 50 epochs, 100 queries.
# Official (46.7 mask AP):
# configs/coco/instance-segmentation/swin/maskformer2_swin_base_384_bs16_50ep.yaml
# 80 thing classes (mmdet's CocoDataset with masks).
_base_ = [
    './_base_/models/mask2former_swin_panoptic.py',
    './_base_/datasets/coco_instance_lsj.py',
    './_base_/default_runtime_panoptic.py',
    './_base_/schedules/schedule_mask2former_coco_50ep.py',
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
            checkpoint='data/pretrained/swin_base_patch4_window12_384.pth')),
    num_things=80,
    data_preprocessor=dict(pad_seg=False),
    panoptic_head=dict(
        in_channels=[128, 256, 512, 1024],
        num_classes=80),
    # instance only: no panoptic or semantic output, no thing filter
    test_cfg=dict(panoptic_on=False, semantic_on=False, instance_on=True))
