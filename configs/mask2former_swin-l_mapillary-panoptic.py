# Mask2Former Swin-L (IN-22K, 384), Mapillary Vistas v1.2 panoptic (65 classes, 37
# things), crop 1024, batch 16, 300k iterations (poly), 200 queries,
# thresholds 0.0/0.8 (every non-void query is kept); panoptic and
# semantic outputs (official INSTANCE_ON False), scored by
# CocoPanopticMetric. The things are given by label (thing_classes):
# mmdet keeps the JSON's category order, the official contiguous one.
# Official (45.5 PQ, 60.8 mIoU):
# configs/mapillary-vistas/panoptic-segmentation/swin/maskformer2_swin_large_IN21k_384_bs16_300k.yaml  # noqa: E501
_base_ = [
    './_base_/models/mask2former_swin_panoptic.py',
    './_base_/datasets/mapillary_panoptic_mask2former.py',
    './_base_/default_runtime_panoptic.py',
    './_base_/schedules/schedule_mask2former_300k_panoptic.py',
]
model = dict(
    num_things=None,
    thing_classes={{_base_.thing_labels}},
    panoptic_head=dict(
        num_classes=65,
        transformer_decoder=dict(num_queries=200)),
    test_cfg=dict(object_mask_threshold=0.0, instance_on=False))
