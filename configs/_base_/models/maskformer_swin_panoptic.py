# MaskFormer Swin for panoptic segmentation (official Swin COCO panoptic
# models): no encoder in the pixel decoder; the transformer decoder attends
# to res5 through its input projection (ENFORCE_INPUT_PROJ). Swin-L dims;
# the Swin-T/S/B configs override them.
_base_ = ['./maskformer_r50_panoptic.py']
model = dict(
    backbone={{_base_.swin_l_backbone}},
    panoptic_head=dict(
        in_channels=[192, 384, 768, 1536],
        pixel_decoder=dict(
            _delete_=True,
            type='mmmaskformer.FPNPixelDecoder',
            conv_dim=256,
            mask_dim=256),
        transformer_decoder=dict(enforce_input_proj=True)))
