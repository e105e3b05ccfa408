# MaskFormer R101, ADE20K-150. Official: maskformer_R101_bs16_160k.yaml, 45.5.
_base_ = ['./maskformer_r50_ade20k.py']
model = dict(
    backbone=dict(
        depth=101,
        init_cfg=dict(
            type='Pretrained',
            checkpoint='data/pretrained/resnet101_torchvision.pth')))
