# MaskFormer Swin-L (IN-22K, 384 pre-training), ADE20K-150, 640x640,
# 8 GPUs x 2 images, 160k iterations. Official:
# configs/ade20k-150/swin/maskformer_swin_large_IN21k_384_bs16_160k_res640.yaml,
# 54.1 mIoU s.s. / 55.6 ms+flip.
_base_ = [
    './_base_/models/maskformer_swin.py',
    './_base_/datasets/ade20k_maskformer_640x640.py',
    './_base_/default_runtime.py',
    './_base_/schedules/schedule_160k_adamw_swin.py',
]
crop_size = (640, 640)
model = dict(data_preprocessor=dict(size=crop_size))
