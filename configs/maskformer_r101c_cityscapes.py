# MaskFormer R101c, Cityscapes (19 classes), crop 512x1024, batch 16,
# 90k iterations, test on the full 1024x2048 image. Official:
# configs/cityscapes-19/maskformer_R101c_bs16_90k.yaml, 79.7 mIoU.
_base_ = [
    './_base_/models/maskformer_r50.py',
    './_base_/datasets/cityscapes_maskformer.py',
    './_base_/default_runtime.py',
    './_base_/schedules/schedule_90k_adamw.py',
]
crop_size = (512, 1024)
model = dict(
    backbone=dict(
        type='ResNetV1c', depth=101, stem_channels=128, multi_grid=(1, 2, 4),
        init_cfg=dict(type='Pretrained', checkpoint='data/pretrained/R-103_mmseg.pth')),
    data_preprocessor=dict(size=crop_size),
    decode_head=dict(num_classes=19))
