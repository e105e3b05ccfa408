# MaskFormer Swin-B (IN-22K, 384), COCO panoptic: FPN pixel decoder, the
# transformer decoder on res5 with its input projection, the Swin optimizer.
# Official (51.8 PQ):
# configs/coco-panoptic/swin/maskformer_panoptic_swin_base_IN21k_384_bs64_554k.yaml
_base_ = [
    './_base_/models/maskformer_swin_panoptic.py',
    './_base_/datasets/coco_panoptic_maskformer.py',
    './_base_/default_runtime_panoptic.py',
    './_base_/schedules/schedule_coco_panoptic_554k_swin.py',
]
model = dict(
    backbone=dict(
        pretrain_img_size=384,
        embed_dims=128,
        window_size=12,
        depths=[2, 2, 18, 2],
        num_heads=[4, 8, 16, 32],
        init_cfg=dict(
            type='Pretrained',
            checkpoint='data/pretrained/swin_base_patch4_window12_384_22k.pth')),
    panoptic_head=dict(in_channels=[128, 256, 512, 1024]))
