# MaskFormer R101, Cityscapes (19 classes), crop 512x1024, batch 16,
# 90k iterations, test on the full 1024x2048 image. Official:
# configs/cityscapes-19/maskformer_R101_bs16_90k.yaml, 78.5 mIoU.
_base_ = [
    './_base_/models/maskformer_r50.py',
    './_base_/datasets/cityscapes_maskformer.py',
    './_base_/default_runtime.py',
    './_base_/schedules/schedule_90k_adamw.py',
]
crop_size = (512, 1024)
model = dict(
    backbone=dict(
        depth=101,
        init_cfg=dict(type='Pretrained', checkpoint='data/pretrained/resnet101_torchvision.pth')),
    data_preprocessor=dict(size=crop_size),
    decode_head=dict(num_classes=19))
