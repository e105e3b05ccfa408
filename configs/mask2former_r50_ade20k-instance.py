# Mask2Former R50, ADE20K instance (100 thing classes), crop 640,
# batch 16, 160k iterations (poly), 100 queries.
# Official (26.4 mask AP):
# configs/ade20k/instance-segmentation/maskformer2_R50_bs16_160k.yaml
_base_ = [
    './_base_/models/mask2former_r50_panoptic.py',
    './_base_/datasets/ade20k_instance_mask2former.py',
    './_base_/default_runtime_panoptic.py',
    './_base_/schedules/schedule_mask2former_160k_panoptic.py',
]
model = dict(
    num_things=100,
    data_preprocessor=dict(pad_seg=False),
    panoptic_head=dict(
        num_classes=100),
    # instance only: no panoptic or semantic output, no thing filter
    test_cfg=dict(panoptic_on=False, semantic_on=False, instance_on=True))
