# MaskFormer R50 + 6 Enc, COCO panoptic (133 classes: 80 things, 53 stuff),
# batch 64, 554,400 iterations, step schedule; thresholds 0.8/0.8.
# Official: configs/coco-panoptic/maskformer_panoptic_R50_bs64_554k.yaml,
# 46.5 PQ.
_base_ = [
    './_base_/models/maskformer_r50_panoptic.py',
    './_base_/datasets/coco_panoptic_maskformer.py',
    './_base_/default_runtime_panoptic.py',
    './_base_/schedules/schedule_coco_panoptic_554k.py',
]
