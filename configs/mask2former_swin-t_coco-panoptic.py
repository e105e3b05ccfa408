# Mask2Former Swin-T (IN-1K, 224), COCO panoptic, LSJ 1024, batch 16, 50 epochs, 100 queries.
# Official (53.2 PQ):
# configs/coco/panoptic-segmentation/swin/maskformer2_swin_tiny_bs16_50ep.yaml
_base_ = [
    './_base_/models/mask2former_swin_panoptic.py',
    './_base_/datasets/coco_panoptic_lsj.py',
    './_base_/default_runtime_panoptic.py',
    './_base_/schedules/schedule_mask2former_coco_50ep.py',
]
model = dict(
    backbone=dict(
        pretrain_img_size=224,
        embed_dims=96,
        window_size=7,
        depths=[2, 2, 6, 2],
        num_heads=[3, 6, 12, 24],
        init_cfg=dict(
            type='Pretrained',
            checkpoint='data/pretrained/swin_tiny_patch4_window7_224.pth')),
    panoptic_head=dict(
        in_channels=[96, 192, 384, 768]))
