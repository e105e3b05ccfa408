# ADE20K instance segmentation (100 thing classes: mmdet's
# ADE20KInstanceDataset, the official ADE_CATEGORIES names and order) with
# the official Mask2Former augmentation (MaskFormerInstanceDatasetMapper,
# Base-ADE20K-InstanceSegmentation.yaml): short edge a random choice of
# x0.5..x2.0 of 640 (320..1280, max 2560), random 640x640 crop, SSD colour
# jitter, flip, pad to exactly 640x640 (image 128 before normalisation,
# masks 0). Crowd instances are not targets; mmdet's RandomCrop drops the
# instances the crop leaves empty (the official mapper keeps them as empty
# masks). Test: short side 640, max 2560, batch padded to a multiple of 32.
# Mask AP from mmdet's CocoMetric (segm); the official InstanceSegEvaluator
# is COCO's mask AP too (boxes are not scored).
# Data: COCO-format instances from mmdet's converter with --task instance
# (data/ade/ADEChallengeData2016/ade20k_instance_{train,val}.json;
# docs/configs.md, "Data preparation").
data_root = 'data/ade/ADEChallengeData2016/'
crop_size = (640, 640)
dataset_type = 'mmdet.ADE20KInstanceDataset'
train_pipeline = [
    dict(type='mmmaskformer.LoadCheckedImage'),
    dict(type='mmdet.LoadAnnotations', with_bbox=True, with_mask=True),
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
    # normalisation), masks 0
    dict(type='mmdet.Pad', size=crop_size, pad_val=dict(img=128, masks=0)),
    dict(type='mmmaskformer.AddLabelLists'),
    dict(type='mmdet.PackDetInputs',
         meta_keys=('img_id', 'img_path', 'ori_shape', 'img_shape',
                    'scale_factor', 'flip', 'flip_direction',
                    'instance_labels'))
]
test_pipeline = [
    dict(type='mmmaskformer.LoadCheckedImage'),
    dict(type='mmdet.Resize', scale=(2560, 640), keep_ratio=True),
    dict(type='mmdet.LoadAnnotations', with_bbox=True, with_mask=True),
    dict(type='mmdet.PackDetInputs',
         meta_keys=('img_id', 'img_path', 'ori_shape', 'img_shape',
                    'scale_factor'))
]
train_dataloader = dict(
    batch_size=2,
    num_workers=4,
    persistent_workers=True,
    sampler=dict(type='mmmaskformer.PositionalInfiniteSampler', shuffle=True),
    dataset=dict(
        type=dataset_type,
        data_root=data_root,
        ann_file='ade20k_instance_train.json',
        data_prefix=dict(img='images/training/'),
        filter_cfg=dict(filter_empty_gt=True),
        pipeline=train_pipeline))
val_dataloader = dict(
    batch_size=1,
    num_workers=2,
    persistent_workers=True,
    drop_last=False,
    sampler=dict(type='DefaultSampler', shuffle=False),
    dataset=dict(
        type=dataset_type,
        data_root=data_root,
        ann_file='ade20k_instance_val.json',
        data_prefix=dict(img='images/validation/'),
        test_mode=True,
        pipeline=test_pipeline))
test_dataloader = val_dataloader
val_evaluator = dict(
    type='mmdet.CocoMetric',
    ann_file=data_root + 'ade20k_instance_val.json',
    metric='segm')
test_evaluator = val_evaluator
