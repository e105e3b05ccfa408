# MaskFormer R50 + 6 Enc, ADE20K panoptic (100 things + 50 stuff), crop 640,
# batch 16, 720k iterations, poly LR; thresholds 0.7/0.8.
# Official: configs/ade20k-150-panoptic/maskformer_panoptic_R50_bs16_720k.yaml,
# 34.7 PQ.
_base_ = [
    './_base_/models/maskformer_r50_panoptic.py',
    './_base_/datasets/ade20k_panoptic_maskformer.py',
    './_base_/default_runtime_panoptic.py',
    './_base_/schedules/schedule_coco_panoptic_554k.py',
]
model = dict(
    num_things=100,
    data_preprocessor=dict(pad_size_divisor=32),  # official size_div 32
    panoptic_head=dict(num_classes=150),
    test_cfg=dict(object_mask_threshold=0.7, overlap_threshold=0.8))
max_iters = 720000
param_scheduler = [
    dict(
        _delete_=True,
        type='PolyLR', eta_min=0, power=0.9, begin=0, end=max_iters,
        by_epoch=False)
]
train_cfg = dict(max_iters=max_iters, val_interval=80000)
auto_scale_lr = dict(enable=False, base_batch_size=16)
