# Mask2Former Swin-T (IN-1K, 224), ADE20K-150, crop 512, batch 16, 160k iterations, 100 queries.
# Official (47.7 mIoU):
# configs/ade20k/semantic-segmentation/swin/maskformer2_swin_tiny_bs16_160k.yaml
_base_ = [
    './_base_/models/mask2former_swin.py',
    './_base_/datasets/ade20k_maskformer.py',
    './_base_/default_runtime.py',
    './_base_/schedules/schedule_mask2former_160k.py',
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
    decode_head=dict(
        in_channels=[96, 192, 384, 768]))
