# Mask2Former Swin-L (IN-22K, 384), ADE20K instance (100 thing classes), crop 640,
# batch 16, 160k iterations (poly), 200 queries.
# Official (34.9 mask AP):
# configs/ade20k/instance-segmentation/swin/maskformer2_swin_large_IN21k_384_bs16_160k.yaml
# (MODEL_ZOO.md labels this row "R50" but links this Swin-L config.)
_base_ = [
    './_base_/models/mask2former_swin_panoptic.py',
    './_base_/datasets/ade20k_instance_mask2former.py',
    './_base_/default_runtime_panoptic.py',
    './_base_/schedules/schedule_mask2former_160k_panoptic.py',
]
model = dict(
    num_things=100,
    data_preprocessor=dict(pad_seg=False),
    panoptic_head=dict(
        num_classes=100,
        transformer_decoder=dict(num_queries=200)),
    # instance only: no panoptic or semantic output, no thing filter
    test_cfg=dict(panoptic_on=False, semantic_on=False, instance_on=True))
