# PerPixelBaseline, ADE20K-Full (847 classes, ignore 65535).
# Official: per_pixel_baseline_R50_bs16_200k.yaml, 12.4.
_base_ = ['./maskformer_r50_ade20k-full.py']
model = dict(
    decode_head=dict(
        _delete_=True,
        type='mmmaskformer.PerPixelBaselineHead',
        num_classes=847,
        in_channels=[256, 512, 1024, 2048],
        ignore_index=65535,
        pixel_decoder=dict(type='mmmaskformer.FPNPixelDecoder', conv_dim=256,
                           mask_dim=256)))
