# MaskFormer R101 + 6 Enc, COCO panoptic. Official:
# configs/coco-panoptic/maskformer_panoptic_R101_bs64_554k.yaml, 47.6 PQ.
_base_ = ['./maskformer_r50_coco-panoptic.py']
model = dict(
    backbone=dict(
        depth=101,
        init_cfg=dict(
            type='Pretrained',
            checkpoint='data/pretrained/resnet101_torchvision.pth')))
