# MaskFormer with a Swin backbone (official D2SwinTransformer: outputs of the
# four stages before patch merging, each through its own LayerNorm, which is
# mmseg's SwinTransformer with out_indices 0-3). Swin-L IN-22K 384 dims here;
# the Swin-T/S/B configs override them. Drop path 0.3 for every size.
_base_ = ['./maskformer_r50.py']
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
    decode_head=dict(in_channels=[192, 384, 768, 1536]))
