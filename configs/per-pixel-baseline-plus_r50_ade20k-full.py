# PerPixelBaseline+ (transformer decoder with N = K = 847 queries),
# ADE20K-Full. Official: per_pixel_baseline_plus_R50_bs16_200k.yaml, 13.9.
_base_ = ['./maskformer_r50_ade20k-full.py']
model = dict(
    decode_head=dict(
        _delete_=True,
        type='mmmaskformer.PerPixelBaselinePlusHead',
        num_classes=847,
        in_channels=[256, 512, 1024, 2048],
        ignore_index=65535,
        deep_supervision=True,
        pixel_decoder=dict(type='mmmaskformer.FPNPixelDecoder', conv_dim=256,
                           mask_dim=256),
        transformer_decoder=dict(
            type='mmmaskformer.DETRTransformerDecoder',
            hidden_dim=256,
            num_heads=8,
            dim_feedforward=2048,
            dropout=0.1,
            num_layers=6)))
