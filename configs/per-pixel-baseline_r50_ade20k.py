# PerPixelBaseline (paper Table 2): the FPN pixel decoder and a 1x1 conv
# classifier, per-pixel cross-entropy; otherwise the R50 ADE20K recipe.
# Official: configs/ade20k-150/per_pixel_baseline_R50_bs16_160k.yaml, 39.2.
_base_ = ['./maskformer_r50_ade20k.py']
model = dict(
    decode_head=dict(
        _delete_=True,
        type='mmmaskformer.PerPixelBaselineHead',
        num_classes=150,
        in_channels=[256, 512, 1024, 2048],
        ignore_index=255,
        pixel_decoder=dict(type='mmmaskformer.FPNPixelDecoder', conv_dim=256,
                           mask_dim=256)))
