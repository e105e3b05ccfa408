# Mask2Former R101, COCO panoptic, LSJ 1024, batch 16, 50 epochs, 100 queries.
# Official (52.6 PQ):
# configs/coco/panoptic-segmentation/maskformer2_R101_bs16_50ep.yaml
_base_ = [
    './_base_/models/mask2former_r50_panoptic.py',
    './_base_/datasets/coco_panoptic_lsj.py',
    './_base_/default_runtime_panoptic.py',
    './_base_/schedules/schedule_mask2former_coco_50ep.py',
]
model = dict(
    backbone=dict(
        depth=101,
        init_cfg=dict(
            type='Pretrained',
            checkpoint='data/pretrained/resnet101_torchvision.pth')))
