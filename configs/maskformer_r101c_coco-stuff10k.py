# MaskFormer R101c, COCO-Stuff-10K (171 classes), crop 640, batch 32
# (8 GPUs x 4), 60k iterations, scales x0.5-1.5. Official:
# configs/coco-stuff-10k-171/maskformer_R101c_bs32_60k.yaml, 38.0 mIoU.
_base_ = [
    './_base_/models/maskformer_r50.py',
    './_base_/datasets/coco-stuff10k_maskformer.py',
    './_base_/default_runtime.py',
    './_base_/schedules/schedule_60k_adamw.py',
]
crop_size = (640, 640)
model = dict(
    backbone=dict(
        type='ResNetV1c', depth=101, stem_channels=128, multi_grid=(1, 2, 4),
        init_cfg=dict(type='Pretrained', checkpoint='data/pretrained/R-103_mmseg.pth')),
    data_preprocessor=dict(size=crop_size),
    decode_head=dict(num_classes=171))
