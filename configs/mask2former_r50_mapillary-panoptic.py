# Mask2Former R50, Mapillary Vistas v1.2 panoptic (65 classes, 37
# things), crop 1024, batch 16, 300k iterations (poly), 100 queries,
# thresholds 0.0/0.8 (every non-void query is kept); panoptic and
# semantic outputs (official INSTANCE_ON False), scored by
# CocoPanopticMetric. The things are given by label (thing_classes):
# mmdet keeps the JSON's category order, the official contiguous one.
# Official (36.3 PQ, 50.7 mIoU):
# configs/mapillary-vistas/panoptic-segmentation/maskformer_R50_bs16_300k.yaml
# (the official file name says maskformer_; it is the Mask2Former model)
_base_ = [
    './_base_/models/mask2former_r50_panoptic.py',
    './_base_/datasets/mapillary_panoptic_mask2former.py',
    './_base_/default_runtime_panoptic.py',
    './_base_/schedules/schedule_mask2former_300k_panoptic.py',
]
model = dict(
    num_things=None,
    thing_classes={{_base_.thing_labels}},
    panoptic_head=dict(
        num_classes=65),
    test_cfg=dict(object_mask_threshold=0.0, instance_on=False))
