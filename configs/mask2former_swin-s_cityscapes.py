# Mask2Former Swin-S (IN-1K, 224), Cityscapes (19 classes), crop 512x1024, batch 16,
# 90k iterations (poly), 100 queries, test on the whole 1024x2048 image.
# Official (82.6 mIoU, 83.6 multi-scale):
# configs/cityscapes/semantic-segmentation/swin/maskformer2_swin_small_bs16_90k.yaml
_base_ = [
    './_base_/models/mask2former_swin.py',
    './_base_/datasets/cityscapes_maskformer.py',
    './_base_/default_runtime.py',
    './_base_/schedules/schedule_mask2former_90k.py',
]
crop_size = (512, 1024)
model = dict(
    backbone=dict(
        pretrain_img_size=224,
        embed_dims=96,
        window_size=7,
        depths=[2, 2, 18, 2],
        num_heads=[3, 6, 12, 24],
        init_cfg=dict(
            type='Pretrained',
            checkpoint='data/pretrained/swin_small_patch4_window7_224.pth')),
    data_preprocessor=dict(size=crop_size),
    decode_head=dict(
        in_channels=[96, 192, 384, 768],
        num_classes=19))
