# Mask2Former R50, ADE20K panoptic (100 things + 50 stuff), crop 640,
# batch 16, 160k iterations (poly), 100 queries, thresholds 0.8/0.8;
# panoptic, semantic and instance outputs (official SEMANTIC_ON,
# INSTANCE_ON, PANOPTIC_ON), scored by CocoPanopticMetric.
# Official (39.7 PQ, 26.5 AP, 46.1 mIoU):
# configs/ade20k/panoptic-segmentation/maskformer2_R50_bs16_160k.yaml
_base_ = [
    './_base_/models/mask2former_r50_panoptic.py',
    './_base_/datasets/ade20k_panoptic_maskformer.py',
    './_base_/default_runtime_panoptic.py',
    './_base_/schedules/schedule_mask2former_160k_panoptic.py',
]
model = dict(
    num_things=100,
    panoptic_head=dict(
        num_classes=150))
