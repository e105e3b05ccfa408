# Mask2Former Swin-L (IN-22K, 384), Cityscapes instance (8 thing classes), crop
# 512x1024, batch 16, 90k iterations (poly), 200 queries.
# Official (43.7 AP, 71.4 AP50; the Cityscapes evaluator):
# configs/cityscapes/instance-segmentation/swin/maskformer2_swin_large_IN21k_384_bs16_90k.yaml
_base_ = [
    './_base_/models/mask2former_swin_panoptic.py',
    './_base_/datasets/cityscapes_instance_mask2former.py',
    './_base_/default_runtime_panoptic.py',
    './_base_/schedules/schedule_mask2former_90k_panoptic.py',
]
model = dict(
    num_things=8,
    data_preprocessor=dict(pad_seg=False),
    panoptic_head=dict(
        num_classes=8,
        transformer_decoder=dict(num_queries=200)),
    # instance only: no panoptic or semantic output, no thing filter
    test_cfg=dict(panoptic_on=False, semantic_on=False, instance_on=True))
