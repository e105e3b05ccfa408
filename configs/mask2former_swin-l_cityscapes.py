# Mask2Former Swin-L (IN-22K, 384), Cityscapes (19 classes), crop 512x1024, batch 16,
# 90k iterations (poly), 100 queries, test on the whole 1024x2048 image.
# Official (83.3 mIoU, 84.3 multi-scale):
# configs/cityscapes/semantic-segmentation/swin/maskformer2_swin_large_IN21k_384_bs16_90k.yaml
_base_ = [
    './_base_/models/mask2former_swin.py',
    './_base_/datasets/cityscapes_maskformer.py',
    './_base_/default_runtime.py',
    './_base_/schedules/schedule_mask2former_90k.py',
]
crop_size = (512, 1024)
model = dict(
    data_preprocessor=dict(size=crop_size),
    decode_head=dict(
        num_classes=19))
