# PerPixelBaseline+ (paper Table 2): the transformer decoder with N = K = 150
# queries whose mask logits are per-pixel class logits, per-pixel
# cross-entropy on every decoder layer (deep supervision).
# Official: configs/ade20k-150/per_pixel_baseline_plus_R50_bs16_160k.yaml, 41.9.
_base_ = ['./maskformer_r50_ade20k.py']
model = dict(
    decode_head=dict(
        _delete_=True,
        type='mmmaskformer.PerPixelBaselinePlusHead',
        num_classes=150,
        in_channels=[256, 512, 1024, 2048],
        ignore_index=255,
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
