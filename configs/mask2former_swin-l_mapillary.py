# Mask2Former Swin-L (IN-22K, 384), Mapillary Vistas v1.2 (65 classes), crop 1024,
# batch 16, 300k iterations (poly), 100 queries, test at short side
# 2048 (max 2048).
# Official (63.2 mIoU, 64.7 multi-scale):
# configs/mapillary-vistas/semantic-segmentation/swin/maskformer2_swin_large_IN21k_384_bs16_300k.yaml  # noqa: E501
_base_ = [
    './_base_/models/mask2former_swin.py',
    './_base_/datasets/mapillary_mask2former.py',
    './_base_/default_runtime.py',
    './_base_/schedules/schedule_mask2former_300k.py',
]
crop_size = (1024, 1024)
model = dict(
    data_preprocessor=dict(size=crop_size),
    decode_head=dict(
        num_classes=65))
