# Mask2Former Swin-L (IN-22K, 384), ADE20K panoptic (100 things + 50 stuff), crop 640,
# batch 16, 160k iterations (poly), 200 queries, thresholds 0.8/0.8;
# panoptic, semantic and instance outputs (official SEMANTIC_ON,
# INSTANCE_ON, PANOPTIC_ON), scored by CocoPanopticMetric.
# Official (48.1 PQ, 34.2 AP, 54.5 mIoU):
# configs/ade20k/panoptic-segmentation/swin/maskformer2_swin_large_IN21k_384_bs16_160k.yaml
_base_ = [
    './_base_/models/mask2former_swin_panoptic.py',
    './_base_/datasets/ade20k_panoptic_maskformer.py',
    './_base_/default_runtime_panoptic.py',
    './_base_/schedules/schedule_mask2former_160k_panoptic.py',
]
model = dict(
    num_things=100,
    panoptic_head=dict(
        num_classes=150,
        transformer_decoder=dict(num_queries=200)))
