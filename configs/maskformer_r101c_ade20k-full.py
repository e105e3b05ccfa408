# MaskFormer R101c (DeepLab stem, res5 multi-grid 1/2/4), ADE20K-Full.
# Official: maskformer_R101c_bs16_200k.yaml, 17.4.
_base_ = ['./maskformer_r50_ade20k-full.py']
model = dict(
    backbone=dict(
        type='ResNetV1c',
        depth=101,
        stem_channels=128,
        multi_grid=(1, 2, 4),
        init_cfg=dict(
            type='Pretrained', checkpoint='data/pretrained/R-103_mmseg.pth')))
