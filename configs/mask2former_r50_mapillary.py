# Mask2Former R50, Mapillary Vistas v1.2 (65 classes), crop 1024,
# batch 16, 300k iterations (poly), 100 queries, test at short side
# 2048 (max 2048).
# Official (57.4 mIoU, 59.0 multi-scale):
# configs/mapillary-vistas/semantic-segmentation/maskformer2_R50_bs16_300k.yaml
_base_ = [
    './_base_/models/mask2former_r50.py',
    './_base_/datasets/mapillary_mask2former.py',
    './_base_/default_runtime.py',
    './_base_/schedules/schedule_mask2former_300k.py',
]
crop_size = (1024, 1024)
model = dict(
    data_preprocessor=dict(size=crop_size),
    decode_head=dict(
        num_classes=65))
