# Mask2Former Swin-T (IN-1K, 224), Cityscapes instance (8 thing classes), crop
# 512x1024, batch 16, 90k iterations (poly), 100 queries.
# Official (39.7 AP, 66.9 AP50; the Cityscapes evaluator):
# configs/cityscapes/instance-segmentation/swin/maskformer2_swin_tiny_bs16_90k.yaml
_base_ = [
    './_base_/models/mask2former_swin_panoptic.py',
    './_base_/datasets/cityscapes_instance_mask2former.py',
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
    num_things=8,
    data_preprocessor=dict(pad_seg=False),
    panoptic_head=dict(
        in_channels=[96, 192, 384, 768],
        num_classes=8),
    # instance only: no panoptic or semantic output, no thing filter
    test_cfg=dict(panoptic_on=False, semantic_on=False, instance_on=True))
