# Mask2Former R50 for panoptic segmentation (official COCO panoptic R50
# model, maskformer2_R50_bs16_50ep): FrozenBN ResNet-50 + Mask2FormerHead in
# MaskFormer's panoptic segmentor, inputs padded to a multiple of 32
# (SIZE_DIVISIBILITY 32); the official test switches: panoptic, semantic and
# instance outputs (top 100 (query, thing class) pairs), thresholds 0.8/0.8.
_base_ = ['./maskformer_r50_panoptic.py', './mask2former_parts.py']
model = dict(
    data_preprocessor=dict(pad_size_divisor=32),
    panoptic_head=dict(
        _delete_=True,
        type='mmmaskformer.Mask2FormerHead',
        num_classes=133,
        in_channels=[256, 512, 1024, 2048],
        ignore_index=255,
        pixel_decoder={{_base_.mask2former_pixel_decoder}},
        transformer_decoder={{_base_.mask2former_transformer_decoder}},
        criterion={{_base_.mask2former_criterion}}),
    test_cfg=dict(
        object_mask_threshold=0.8, overlap_threshold=0.8, panoptic_on=True,
        semantic_on=True, instance_on=True, max_per_image=100))
