# Mask2Former R50 for semantic segmentation (official ADE20K semantic R50
# model, maskformer2_R50_bs16_160k): FrozenBN ResNet-50 (detectron2 default:
# BN statistics and affine frozen, every conv trainable) + Mask2FormerHead
# (deformable pixel decoder, masked-attention decoder with 9 layers and 100
# queries, point-sampled loss). The MaskFormer R50 base with the head
# switched: the same segmentor, data preprocessor and inference path.
_base_ = ['./maskformer_r50.py', './mask2former_parts.py']
model = dict(
    decode_head=dict(
        _delete_=True,
        type='mmmaskformer.Mask2FormerHead',
        num_classes=150,
        in_channels=[256, 512, 1024, 2048],
        ignore_index=255,
        pixel_decoder={{_base_.mask2former_pixel_decoder}},
        transformer_decoder={{_base_.mask2former_transformer_decoder}},
        criterion={{_base_.mask2former_criterion}}))
