# Mask2Former Swin for panoptic/instance segmentation: the R50 panoptic base
# with the official Swin backbone (Swin-L IN-22K 384 dims; the Swin-T/S/B
# configs override them). Unlike MaskFormer's Swin models, the pixel decoder
# is the same deformable one for every backbone.
_base_ = ['./mask2former_r50_panoptic.py']
model = dict(
    backbone={{_base_.swin_l_backbone}},
    panoptic_head=dict(in_channels=[192, 384, 768, 1536]))
