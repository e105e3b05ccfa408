# MaskFormer with a Swin backbone (official D2SwinTransformer: outputs of the
# four stages before patch merging, each through its own LayerNorm, which is
# mmseg's SwinTransformer with out_indices 0-3). Swin-L IN-22K 384 dims here;
# the Swin-T/S/B configs override them. Drop path 0.3 for every size.
_base_ = ['./maskformer_r50.py']
model = dict(
    backbone={{_base_.swin_l_backbone}},
    decode_head=dict(in_channels=[192, 384, 768, 1536]))
