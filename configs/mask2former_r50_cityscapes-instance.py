# Mask2Former R50, Cityscapes instance (8 thing classes), crop
# 512x1024, batch 16, 90k iterations (poly), 100 queries.
# Official (37.4 AP, 61.9 AP50; the Cityscapes evaluator):
# configs/cityscapes/instance-segmentation/maskformer2_R50_bs16_90k.yaml
# Trainable SyncBN in the ResNet (official Cityscapes NORM "SyncBN": statistics
# and affine trained).
_base_ = [
    './_base_/models/mask2former_r50_panoptic.py',
    './_base_/datasets/cityscapes_instance_mask2former.py',
    './_base_/default_runtime_panoptic.py',
    './_base_/schedules/schedule_mask2former_90k_panoptic.py',
]
model = dict(
    backbone=dict(
        norm_cfg=dict(type='SyncBN', requires_grad=True),
        norm_eval=False),
    num_things=8,
    data_preprocessor=dict(pad_seg=False),
    panoptic_head=dict(
        num_classes=8),
    # instance only: no panoptic or semantic output, no thing filter
    test_cfg=dict(panoptic_on=False, semantic_on=False, instance_on=True))
