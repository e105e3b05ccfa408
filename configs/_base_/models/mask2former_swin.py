# Mask2Former with a Swin backbone (the official D2SwinTransformer, as for
# MaskFormer: four stage outputs before patch merging, each through its own
# LayerNorm; drop path 0.3). Swin-L IN-22K 384 dims; the Swin-T/S/B configs
# override them.
_base_ = ['./mask2former_r50.py']
model = dict(
    backbone={{_base_.swin_l_backbone}},
    decode_head=dict(in_channels=[192, 384, 768, 1536]))
