# MaskFormer R50, COCO-Stuff-10K (171 classes), crop 640, batch 32
# (8 GPUs x 4), 60k iterations, scales x0.5-1.5. Official:
# configs/coco-stuff-10k-171/maskformer_R50_bs32_60k.yaml, 37.1 mIoU.
_base_ = [
    './_base_/models/maskformer_r50.py',
    './_base_/datasets/coco-stuff10k_maskformer.py',
    './_base_/default_runtime.py',
    './_base_/schedules/schedule_60k_adamw.py',
]
crop_size = (640, 640)
model = dict(
    data_preprocessor=dict(size=crop_size),
    decode_head=dict(num_classes=171))
