# Building blocks shared by the MaskFormer model bases (semantic, panoptic,
# demo), referenced as {{_base_.maskformer_criterion}} etc.

# The official loss and matching (MaskFormer.from_config): matching cost
# class 1 + focal 20 + dice 1; CE with no-object weight 0.1, focal x20,
# dice x1, on every decoder layer.
maskformer_criterion = dict(
    type='mmmaskformer.SetCriterion',
    assigner=dict(
        type='mmmaskformer.MaskFormerHungarianAssigner', cost_class=1.0, cost_mask=20.0,
        cost_dice=1.0),
    class_weight=1.0,
    mask_weight=20.0,
    dice_weight=1.0,
    no_object_weight=0.1)

# The official Swin backbone (D2SwinTransformer: four stage outputs before
# patch merging, each through its own LayerNorm = mmseg's SwinTransformer
# with out_indices 0-3), Swin-L IN-22K 384 dims, drop path 0.3. It replaces
# the ResNet of the base it is merged into (_delete_).
swin_l_backbone = dict(
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
        checkpoint='data/pretrained/swin_large_patch4_window12_384_22k.pth'))
