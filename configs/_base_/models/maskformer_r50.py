# MaskFormer R50 for semantic segmentation (official ADE20K semantic model).
# FrozenBN ResNet (detectron2 default in every official config): BN statistics
# and affine parameters frozen, every conv trainable.
_base_ = ['./maskformer_parts.py']
norm_cfg = dict(type='BN', requires_grad=False)
data_preprocessor = dict(
    type='SegDataPreProcessor',
    mean=[123.675, 116.28, 103.53],
    std=[58.395, 57.12, 57.375],
    bgr_to_rgb=True,
    pad_val=0,
    seg_pad_val=255,
    size=(512, 512),  # training inputs are padded to exactly the crop size
    test_cfg=dict(size_divisor=32))  # official size_divisibility 32
model = dict(
    type='EncoderDecoder',
    data_preprocessor=data_preprocessor,
    backbone=dict(
        type='ResNet',
        depth=50,
        num_stages=4,
        out_indices=(0, 1, 2, 3),
        dilations=(1, 1, 1, 1),
        strides=(1, 2, 2, 2),
        norm_cfg=norm_cfg,
        norm_eval=True,
        style='pytorch',  # stride on the 3x3 conv (STRIDE_IN_1X1: False)
        frozen_stages=-1,
        init_cfg=dict(
            type='Pretrained',
            checkpoint='data/pretrained/resnet50_torchvision.pth')),
    decode_head=dict(
        type='mmmaskformer.MaskFormerHead',
        num_classes=150,
        in_channels=[256, 512, 1024, 2048],
        ignore_index=255,
        pixel_decoder=dict(type='mmmaskformer.FPNPixelDecoder', conv_dim=256, mask_dim=256),
        transformer_decoder=dict(
            type='mmmaskformer.DETRTransformerDecoder',
            hidden_dim=256,
            num_queries=100,
            num_heads=8,
            dim_feedforward=2048,
            dropout=0.1,
            num_layers=6,
            pre_norm=False),
        criterion={{_base_.maskformer_criterion}}),
    train_cfg=dict(),
    test_cfg=dict(mode='whole', semantic_inference='probabilistic'))
