# Example: a timm backbone. Any timm model with `features_only` plugs in by
# name; MaskFormerEncoderDecoder takes the pixel decoder's input channels
# from the model. ConvNeXt-T (drop path 0.3) with the Swin optimizer.
# Pretrained weights: timm's convnext_tiny checkpoint saved locally
# (backbone.checkpoint_path), the hub is not reachable here.
_base_ = [
    './_base_/models/maskformer_r50.py',
    './_base_/datasets/ade20k_maskformer.py',
    './_base_/default_runtime.py',
    './_base_/schedules/schedule_160k_adamw_swin.py',
]
model = dict(
    type='mmmaskformer.MaskFormerEncoderDecoder',
    backbone=dict(
        _delete_=True,
        type='mmmaskformer.TimmBackbone',
        model_name='convnext_tiny',
        drop_path_rate=0.3,
        checkpoint_path=''),
    decode_head=dict(in_channels=None))
