# ADE20K panoptic (150 classes: 100 things then 50 stuff) with the official
# MaskFormerPanopticDatasetMapper augmentation: the semantic recipe at crop
# 640 (short edge x0.5..x2.0 of 640, max 2560, random crop, SSD colour
# jitter, flip, pad to exactly 640x640 with 128 / ignore / VOID). Test: short
# side 640, max 2560, batch padded to a multiple of 32 (official
# SIZE_DIVISIBILITY 32).
# Prepare with mmdet's converter, tools/dataset_converters/ade20k2coco.py of
# mmdet's .mim folder, with --task panoptic (docs/configs.md, "Data
# preparation").
# The same root as the semantic ADE20K configs (mmseg's layout).
data_root = 'data/ade/ADEChallengeData2016/'
crop_size = (640, 640)
train_pipeline = [
    dict(type='mmmaskformer.LoadCheckedImage'),
    dict(type='mmmaskformer.LoadCheckedPanopticAnnotations'),
    dict(type='mmmaskformer.DropCrowdInstances'),
    dict(
        type='RandomChoiceResize',
        scales=[(2560, int(640 * x * 0.1)) for x in range(5, 21)],
        resize_type='mmdet.Resize',
        keep_ratio=True),
    dict(
        type='mmdet.RandomCrop',
        crop_size=crop_size,
        crop_type='absolute',
        recompute_bbox=True,
        allow_negative_crop=True),
    dict(type='mmdet.PhotoMetricDistortion'),
    dict(type='mmdet.RandomFlip', prob=0.5),
    # official mapper: pad to exactly the crop, image 128 (before
    # normalisation), semantic label ignore, instance masks 0 (VOID)
    dict(type='mmdet.Pad', size=crop_size,
         pad_val=dict(img=128, seg=255, masks=0)),
    dict(type='mmmaskformer.AddLabelLists'),
    dict(type='mmdet.PackDetInputs',
         meta_keys=('img_id', 'img_path', 'ori_shape', 'img_shape', 'scale_factor',
                   'flip', 'flip_direction', 'seg_labels', 'instance_labels'))
]
test_pipeline = [
    dict(type='mmmaskformer.LoadCheckedImage'),
    dict(type='mmdet.Resize', scale=(2560, 640), keep_ratio=True),
    dict(type='mmmaskformer.LoadCheckedPanopticAnnotations'),
    dict(
        type='mmdet.PackDetInputs',
        meta_keys=('img_id', 'img_path', 'ori_shape', 'img_shape',
                   'scale_factor'))
]
train_dataloader = dict(
    batch_size=2,
    num_workers=4,
    persistent_workers=True,
    sampler=dict(type='mmmaskformer.PositionalInfiniteSampler', shuffle=True),
    dataset=dict(
        type='mmdet.ADE20KPanopticDataset',
        data_root=data_root,
        ann_file='ade20k_panoptic_train.json',
        data_prefix=dict(img='images/training/',
                         seg='ade20k_panoptic_train/'),
        filter_cfg=dict(filter_empty_gt=True),
        pipeline=train_pipeline))
val_dataloader = dict(
    batch_size=1,
    num_workers=2,
    persistent_workers=True,
    drop_last=False,
    sampler=dict(type='DefaultSampler', shuffle=False),
    dataset=dict(
        type='mmdet.ADE20KPanopticDataset',
        data_root=data_root,
        ann_file='ade20k_panoptic_val.json',
        data_prefix=dict(img='images/validation/',
                         seg='ade20k_panoptic_val/'),
        test_mode=True,
        pipeline=test_pipeline))
test_dataloader = val_dataloader
val_evaluator = dict(
    type='mmdet.CocoPanopticMetric',
    ann_file=data_root + 'ade20k_panoptic_val.json',
    seg_prefix=data_root + 'ade20k_panoptic_val/')
test_evaluator = val_evaluator
