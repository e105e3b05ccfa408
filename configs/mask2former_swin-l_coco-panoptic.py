# Mask2Former Swin-L (IN-22K, 384), COCO panoptic, LSJ 1024, batch 16, 100 epochs, 200 queries.
# Official (57.8 PQ):
# configs/coco/panoptic-segmentation/swin/maskformer2_swin_large_IN21k_384_bs16_100ep.yaml
_base_ = [
    './_base_/models/mask2former_swin_panoptic.py',
    './_base_/datasets/coco_panoptic_lsj.py',
    './_base_/default_runtime_panoptic.py',
    './_base_/schedules/schedule_mask2former_coco_100ep.py',
]
model = dict(
    panoptic_head=dict(
        transformer_decoder=dict(num_queries=200)))
