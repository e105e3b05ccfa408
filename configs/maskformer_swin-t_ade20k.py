# MaskFormer Swin-T (IN-1K, 224), ADE20K-150, crop 512, window 7,
# drop path 0.3. Official: configs/ade20k-150/swin/maskformer_swin_tiny_bs16_160k.yaml, 46.7.
_base_ = [
    './_base_/models/maskformer_swin.py',
    './_base_/datasets/ade20k_maskformer.py',
    './_base_/default_runtime.py',
    './_base_/schedules/schedule_160k_adamw_swin.py',
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
    decode_head=dict(in_channels=[96, 192, 384, 768]))
