# Mask2Former Swin-B (IN-22K, 384), Cityscapes (19 classes), crop 512x1024, batch 16,
# 90k iterations (poly), 100 queries, test on the whole 1024x2048 image.
# Official (83.3 mIoU, 84.5 multi-scale):
# configs/cityscapes/semantic-segmentation/swin/maskformer2_swin_base_IN21k_384_bs16_90k.yaml
_base_ = [
    './_base_/models/mask2former_swin.py',
    './_base_/datasets/cityscapes_maskformer.py',
    './_base_/default_runtime.py',
    './_base_/schedules/schedule_mask2former_90k.py',
]
crop_size = (512, 1024)
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
    data_preprocessor=dict(size=crop_size),
    decode_head=dict(
        in_channels=[128, 256, 512, 1024],
        num_classes=19))
