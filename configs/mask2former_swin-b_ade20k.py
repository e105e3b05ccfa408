# Mask2Former Swin-B (IN-1K, 384), ADE20K-150, crop 640, batch 16, 160k iterations, 100 queries.
# Official (52.4 mIoU):
# configs/ade20k/semantic-segmentation/swin/maskformer2_swin_base_384_bs16_160k_res640.yaml
_base_ = [
    './_base_/models/mask2former_swin.py',
    './_base_/datasets/ade20k_maskformer_640x640.py',
    './_base_/default_runtime.py',
    './_base_/schedules/schedule_mask2former_160k.py',
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
    decode_head=dict(
        in_channels=[128, 256, 512, 1024]))
