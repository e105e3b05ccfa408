# Mask2Former Swin-T (IN-1K, 224), COCO instance, LSJ 1024, batch 16, 50 epochs, 100 queries.
# Official (45.0 mask AP):
# configs/coco/instance-segmentation/swin/maskformer2_swin_tiny_bs16_50ep.yaml
# 80 thing classes (mmdet's CocoDataset with masks).
_base_ = [
    './_base_/models/mask2former_swin_panoptic.py',
    './_base_/datasets/coco_instance_lsj.py',
    './_base_/default_runtime_panoptic.py',
    './_base_/schedules/schedule_mask2former_coco_50ep.py',
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
    num_things=80,
    data_preprocessor=dict(pad_seg=False),
    panoptic_head=dict(
        in_channels=[96, 192, 384, 768],
        num_classes=80),
    # instance only: no panoptic or semantic output, no thing filter
    test_cfg=dict(panoptic_on=False, semantic_on=False, instance_on=True))
