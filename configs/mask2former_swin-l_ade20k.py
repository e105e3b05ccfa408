# Mask2Former Swin-L (IN-22K, 384), ADE20K-150, crop 640, batch 16, 160k iterations, 100 queries.
# Official (56.1 mIoU):
# configs/ade20k/semantic-segmentation/swin/maskformer2_swin_large_IN21k_384_bs16_160k_res640.yaml
_base_ = [
    './_base_/models/mask2former_swin.py',
    './_base_/datasets/ade20k_maskformer_640x640.py',
    './_base_/default_runtime.py',
    './_base_/schedules/schedule_mask2former_160k.py',
]
