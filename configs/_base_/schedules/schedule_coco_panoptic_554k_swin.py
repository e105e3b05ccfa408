# The COCO panoptic schedule with the official Swin optimizer: lr 6e-5,
# wd 0.01, backbone lr multiplier 1.0 (mmdet's own Swin-L config silently
# keeps the R50 base's 0.1), no decay on norms, the query embedding and the
# relative position tables.
_base_ = ['./schedule_coco_panoptic_554k.py']
optim_wrapper = dict(
    optimizer=dict(lr=6e-5, weight_decay=0.01),
    paramwise_cfg=dict(_delete_=True, backbone_lr_mult=1.0))
