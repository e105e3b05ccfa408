# Mask2Former R50, COCO instance, LSJ 1024, batch 16, 50 epochs, 100 queries.
# Official (43.7 mask AP):
# configs/coco/instance-segmentation/maskformer2_R50_bs16_50ep.yaml
# 80 thing classes (mmdet's CocoDataset with masks).
_base_ = [
    './_base_/models/mask2former_r50_panoptic.py',
    './_base_/datasets/coco_instance_lsj.py',
    './_base_/default_runtime_panoptic.py',
    './_base_/schedules/schedule_mask2former_coco_50ep.py',
]
model = dict(
    num_things=80,
    data_preprocessor=dict(pad_seg=False),
    panoptic_head=dict(
        num_classes=80),
    # instance only: no panoptic or semantic output, no thing filter
    test_cfg=dict(panoptic_on=False, semantic_on=False, instance_on=True))
