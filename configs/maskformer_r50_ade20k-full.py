# MaskFormer R50, ADE20K-Full (847 classes), 512x512, 8 GPUs x 2 images,
# 200k iterations. Official: configs/ade20k-full-847/
# maskformer_R50_bs16_200k.yaml, 16.0 mIoU s.s.
_base_ = [
    './_base_/models/maskformer_r50.py',
    './_base_/datasets/ade20k-full_maskformer.py',
    './_base_/default_runtime.py',
    './_base_/schedules/schedule_200k_adamw.py',
]
model = dict(
    data_preprocessor=dict(seg_pad_val=65535),
    decode_head=dict(num_classes=847, ignore_index=65535))
