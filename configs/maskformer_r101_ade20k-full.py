# MaskFormer R101, ADE20K-Full. Official: maskformer_R101_bs16_200k.yaml, 16.8.
_base_ = ['./maskformer_r50_ade20k-full.py']
model = dict(
    backbone=dict(
        depth=101,
        init_cfg=dict(
            type='Pretrained',
            checkpoint='data/pretrained/resnet101_torchvision.pth')))
