# Cityscapes instance segmentation (8 thing classes: mmdet's
# CityscapesDataset) with the official Mask2Former Cityscapes augmentation
# (MaskFormerInstanceDatasetMapper, Base-Cityscapes-InstanceSegmentation.yaml):
# short edge a random choice of 512..2048 (x0.5..x2.0 of 1024, max 4096),
# random 512x1024 crop, SSD colour jitter, flip, no padding (every crop is
# exactly 512x1024). Crowd instances are not targets. mmdet's RandomCrop
# drops the instances the crop leaves empty (the official mapper keeps them
# as empty masks). Test: the whole 1024x2048 image.
# Data: COCO-format instances from mmdet's converter
# (tools/dataset_converters/cityscapes.py of mmdet's .mim folder:
# data/cityscapes/annotations/instancesonly_filtered_gtFine_{train,val}.json;
# docs/configs.md, "Data preparation"). Mask AP from mmdet's CocoMetric
# (segm) over the same instances; the official AP is the Cityscapes
# evaluator's (mmdet's CityscapesMetric, which needs cityscapesscripts, can
# be added to the evaluator list).
data_root = 'data/cityscapes/'
crop_size = (512, 1024)
dataset_type = 'mmdet.CityscapesDataset'
train_pipeline = [
    dict(type='mmmaskformer.LoadCheckedImage'),
    dict(type='mmdet.LoadAnnotations', with_bbox=True, with_mask=True),
    dict(
        type='RandomChoiceResize',
        scales=[(4096, int(1024 * x * 0.1)) for x in range(5, 21)],
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
    dict(type='mmmaskformer.AddLabelLists'),
    dict(type='mmdet.PackDetInputs',
         meta_keys=('img_id', 'img_path', 'ori_shape', 'img_shape',
                    'scale_factor', 'flip', 'flip_direction',
                    'instance_labels'))
]
test_pipeline = [
    dict(type='mmmaskformer.LoadCheckedImage'),
    dict(type='mmdet.Resize', scale=(2048, 1024), keep_ratio=True),
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
        ann_file='annotations/instancesonly_filtered_gtFine_train.json',
        data_prefix=dict(img='leftImg8bit/train/'),
        filter_cfg=dict(filter_empty_gt=True, min_size=32),
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
        ann_file='annotations/instancesonly_filtered_gtFine_val.json',
        data_prefix=dict(img='leftImg8bit/val/'),
        test_mode=True,
        pipeline=test_pipeline))
test_dataloader = val_dataloader
val_evaluator = dict(
    type='mmdet.CocoMetric',
    ann_file=data_root + 'annotations/instancesonly_filtered_gtFine_val.json',
    metric='segm')
test_evaluator = val_evaluator
