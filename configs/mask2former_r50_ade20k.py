# Mask2Former R50, ADE20K-150, crop 512, batch 16, 160k iterations, 100 queries.
# Official (47.2 mIoU):
# configs/ade20k/semantic-segmentation/maskformer2_R50_bs16_160k.yaml
_base_ = [
    './_base_/models/mask2former_r50.py',
    './_base_/datasets/ade20k_maskformer.py',
    './_base_/default_runtime.py',
    './_base_/schedules/schedule_mask2former_160k.py',
]
