# Mask2Former Swin-L (IN-22K, 384), Cityscapes panoptic (19 classes, things 11-18),
# crop 512x1024, batch 16, 90k iterations (poly), 200 queries,
# thresholds 0.8/0.8; panoptic, semantic and instance outputs, scored
# by CocoPanopticMetric. The things are given by label (thing_classes):
# mmdet keeps the JSON's category order, the official contiguous one.
# Official (66.6 PQ, 43.6 AP, 82.9 mIoU):
# configs/cityscapes/panoptic-segmentation/swin/maskformer2_swin_large_IN21k_384_bs16_90k.yaml
_base_ = [
    './_base_/models/mask2former_swin_panoptic.py',
    './_base_/datasets/cityscapes_panoptic_mask2former.py',
    './_base_/default_runtime_panoptic.py',
    './_base_/schedules/schedule_mask2former_90k_panoptic.py',
]
model = dict(
    num_things=None,
    thing_classes={{_base_.thing_labels}},
    panoptic_head=dict(
        num_classes=19,
        transformer_decoder=dict(num_queries=200)))
