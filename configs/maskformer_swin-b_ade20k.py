# MaskFormer Swin-B (IN-22K, 384), ADE20K-150, crop 640, window 12.
# Official: configs/ade20k-150/swin/
# maskformer_swin_base_IN21k_384_bs16_160k_res640.yaml, 52.7.
_base_ = ['./maskformer_swin-l_ade20k.py']
model = dict(
    backbone=dict(
        embed_dims=128,
        num_heads=[4, 8, 16, 32],
        init_cfg=dict(
            type='Pretrained',
            checkpoint='data/pretrained/swin_base_patch4_window12_384_22k.pth'
        )),
    decode_head=dict(in_channels=[128, 256, 512, 1024]))
