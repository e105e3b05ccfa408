# MaskFormer Swin for panoptic segmentation (official Swin COCO panoptic
# models): no encoder in the pixel decoder; the transformer decoder attends
# to res5 through its input projection (ENFORCE_INPUT_PROJ). Swin-L dims;
# the Swin-T/S/B configs override them.
_base_ = ['./maskformer_r50_panoptic.py']
model = dict(
    backbone=dict(
        _delete_=True,
        type='SwinTransformer',
        pretrain_img_size=384,
        embed_dims=192,
        patch_size=4,
        window_size=12,
        mlp_ratio=4,
        depths=[2, 2, 18, 2],
        num_heads=[6, 12, 24, 48],
        strides=(4, 2, 2, 2),
        out_indices=(0, 1, 2, 3),
        qkv_bias=True,
        qk_scale=None,
        patch_norm=True,
        drop_rate=0.,
        attn_drop_rate=0.,
        drop_path_rate=0.3,
        use_abs_pos_embed=False,
        act_cfg=dict(type='GELU'),
        norm_cfg=dict(type='LN', requires_grad=True),
        init_cfg=dict(
            type='Pretrained',
            checkpoint='data/pretrained/swin_large_patch4_window12_384_22k.pth'
        )),
    panoptic_head=dict(
        in_channels=[192, 384, 768, 1536],
        pixel_decoder=dict(
            _delete_=True,
            type='FPNPixelDecoder',
            conv_dim=256,
            mask_dim=256),
        transformer_decoder=dict(enforce_input_proj=True)))
