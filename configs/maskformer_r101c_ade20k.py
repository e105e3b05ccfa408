# MaskFormer R101c, ADE20K-150: the DeepLab ResNet-101 (three 3x3 stem convs
# to 128 channels, res5 multi-grid dilations 1, 2, 4 at output stride 32),
# FrozenBN, R-103 ImageNet weights. Official:
# maskformer_R101c_bs16_160k.yaml, 46.0.
_base_ = ['./maskformer_r50_ade20k.py']
model = dict(
    backbone=dict(
        type='ResNetV1c',
        depth=101,
        stem_channels=128,
        multi_grid=(1, 2, 4),
        init_cfg=dict(
            type='Pretrained', checkpoint='data/pretrained/R-103_mmseg.pth')))
