# Mask2Former Swin-L (IN-22K, 384), COCO instance, LSJ 1024, batch 16, 100 epochs, 200 queries.
# Official (50.1 mask AP):
# configs/coco/instance-segmentation/swin/maskformer2_swin_large_IN21k_384_bs16_100ep.yaml
# 80 thing classes (mmdet's CocoDataset with masks).
_base_ = [
    './_base_/models/mask2former_swin_panoptic.py',
    './_base_/datasets/coco_instance_lsj.py',
    './_base_/default_runtime_panoptic.py',
    './_base_/schedules/schedule_mask2former_coco_100ep.py',
]
model = dict(
    num_things=80,
    data_preprocessor=dict(pad_seg=False),
    panoptic_head=dict(
        num_classes=80,
        transformer_decoder=dict(num_queries=200)),
    # instance only: no panoptic or semantic output, no thing filter
    test_cfg=dict(panoptic_on=False, semantic_on=False, instance_on=True))
