# MaskFormer R50 "+6 Enc" for panoptic segmentation (official COCO/ADE20K
# panoptic R50 models): FrozenBN ResNet-50, the transformer-encoder pixel
# decoder (6 post-norm layers on res5), the transformer decoder attending to
# the encoder output (256 channels, so no input projection).
_base_ = ['./maskformer_parts.py']
norm_cfg = dict(type='BN', requires_grad=False)
model = dict(
    type='mmmaskformer.MaskFormerPanoptic',
    num_things=80,
    data_preprocessor=dict(
        type='mmdet.DetDataPreprocessor',
        mean=[123.675, 116.28, 103.53],
        std=[58.395, 57.12, 57.375],
        bgr_to_rgb=True,
        pad_size_divisor=1,  # official COCO SIZE_DIVISIBILITY 0
        pad_mask=True,
        mask_pad_value=0,
        pad_seg=True,
        seg_pad_value=255),
    backbone=dict(
        type='ResNet',
        depth=50,
        num_stages=4,
        out_indices=(0, 1, 2, 3),
        dilations=(1, 1, 1, 1),
        strides=(1, 2, 2, 2),
        norm_cfg=norm_cfg,
        norm_eval=True,
        style='pytorch',
        frozen_stages=-1,
        init_cfg=dict(
            type='Pretrained',
            checkpoint='data/pretrained/resnet50_torchvision.pth')),
    panoptic_head=dict(
        type='mmmaskformer.MaskFormerHead',
        num_classes=133,
        in_channels=[256, 512, 1024, 2048],
        ignore_index=255,
        pixel_decoder=dict(
            type='mmmaskformer.TransformerEncoderPixelDecoder',
            conv_dim=256,
            mask_dim=256,
            num_encoder_layers=6,
            num_heads=8,
            dim_feedforward=2048,
            dropout=0.1,
            pre_norm=False),
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
    test_cfg=dict(
        object_mask_threshold=0.8, overlap_threshold=0.8, semantic_on=False))
