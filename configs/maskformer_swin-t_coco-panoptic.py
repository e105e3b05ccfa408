# MaskFormer Swin-T (IN-1K, 224), COCO panoptic: FPN pixel decoder, the
# transformer decoder on res5 with its input projection, the Swin optimizer.
# Official: configs/coco-panoptic/swin/maskformer_panoptic_swin_tiny_bs64_554k.yaml, 47.7 PQ.
_base_ = [
    './_base_/models/maskformer_swin_panoptic.py',
    './_base_/datasets/coco_panoptic_maskformer.py',
    './_base_/default_runtime_panoptic.py',
    './_base_/schedules/schedule_coco_panoptic_554k_swin.py',
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
    panoptic_head=dict(in_channels=[96, 192, 384, 768]))
