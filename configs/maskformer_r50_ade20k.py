# MaskFormer R50, ADE20K-150, 512x512, 8 GPUs x 2 images, 160k iterations.
# Official: configs/ade20k-150/maskformer_R50_bs16_160k.yaml, 44.5 mIoU s.s.
_base_ = [
    './_base_/models/maskformer_r50.py',
    './_base_/datasets/ade20k_maskformer.py',
    './_base_/default_runtime.py',
    './_base_/schedules/schedule_160k_adamw.py',
]
