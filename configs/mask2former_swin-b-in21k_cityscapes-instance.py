# Mask2Former Swin-B (IN-22K, 384), Cityscapes instance (8 thing classes), crop
# 512x1024, batch 16, 90k iterations (poly), 100 queries.
# Official (42.0 AP, 68.8 AP50; the Cityscapes evaluator):
# configs/cityscapes/instance-segmentation/swin/maskformer2_swin_base_IN21k_384_bs16_90k.yaml
_base_ = [
    './_base_/models/mask2former_swin_panoptic.py',
    './_base_/datasets/cityscapes_instance_mask2former.py',
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
    num_things=8,
    data_preprocessor=dict(pad_seg=False),
    panoptic_head=dict(
        in_channels=[128, 256, 512, 1024],
        num_classes=8),
    # instance only: no panoptic or semantic output, no thing filter
    test_cfg=dict(panoptic_on=False, semantic_on=False, instance_on=True))
