# Cityscapes panoptic (19 classes, 8 things) with the official Mask2Former
# Cityscapes augmentation (MaskFormerPanopticDatasetMapper,
# Base-Cityscapes-PanopticSegmentation.yaml): short edge a random choice of
# x0.5..x2.0 of 1024 (512..2048, max 4096), random 512x1024 crop, SSD
# colour jitter, flip, no padding (INPUT.SIZE_DIVISIBILITY -1; every crop is
# exactly 512x1024, the short side being at least 512 on 1024x2048 images).
# Test: the whole 1024x2048 image (short side 1024, max 2048). Crowd
# segments and VOID are background in the targets.
#
# Data: COCO panoptic format written by cityscapesscripts'
# createPanopticImgs.py (label ids, not train ids) under gtFine/, read with
# our CheckedCocoPanopticDataset (mmdet's CocoPanopticDataset) and the
# Cityscapes metainfo below. Its image entries name the file without the
# city folder, and mmdet derives the PNG's name from the image's, so both
# are read from flat folders of symlinks named after the images:
# leftImg8bit_flat/{train,val}/ and gtFine/cityscapes_panoptic_*_by_image/
# (docs/configs.md, "Data preparation").
#
# Label order: mmdet numbers the classes in the order of the JSON's
# categories (pycocotools' getCatIds; the order of metainfo 'classes' does
# not change it), which cityscapesscripts writes in its labels.py order:
# the official contiguous order, stuff 0-10 then things 11-18. The things
# are therefore given to the model by label (thing_labels, the model's
# thing_classes), not as the first classes.
data_root = 'data/cityscapes/'
crop_size = (512, 1024)
classes = ('road', 'sidewalk', 'building', 'wall', 'fence', 'pole',
           'traffic light', 'traffic sign', 'vegetation', 'terrain', 'sky',
           'person', 'rider', 'car', 'truck', 'bus', 'train', 'motorcycle',
           'bicycle')
thing_labels = [11, 12, 13, 14, 15, 16, 17, 18]
metainfo = dict(
    classes=classes,
    thing_classes=classes[11:],
    stuff_classes=classes[:11],
    palette=[(128, 64, 128), (244, 35, 232), (70, 70, 70), (102, 102, 156),
             (190, 153, 153), (153, 153, 153), (250, 170, 30), (220, 220, 0),
             (107, 142, 35), (152, 251, 152), (70, 130, 180), (220, 20, 60),
             (255, 0, 0), (0, 0, 142), (0, 0, 70), (0, 60, 100),
             (0, 80, 100), (0, 0, 230), (119, 11, 32)])
train_pipeline = [
    dict(type='mmmaskformer.LoadCheckedImage'),
    dict(type='mmmaskformer.LoadCheckedPanopticAnnotations'),
    dict(type='mmmaskformer.DropCrowdInstances'),
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
                    'scale_factor', 'flip', 'flip_direction', 'seg_labels',
                    'instance_labels'))
]
test_pipeline = [
    dict(type='mmmaskformer.LoadCheckedImage'),
    dict(type='mmdet.Resize', scale=(2048, 1024), keep_ratio=True),
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
        type='mmmaskformer.CheckedCocoPanopticDataset',
        data_root=data_root,
        metainfo=metainfo,
        ann_file='gtFine/cityscapes_panoptic_train.json',
        data_prefix=dict(img='leftImg8bit_flat/train/',
                         seg='gtFine/cityscapes_panoptic_train_by_image/'),
        filter_cfg=dict(filter_empty_gt=True, min_size=32),
        pipeline=train_pipeline))
val_dataloader = dict(
    batch_size=1,
    num_workers=2,
    persistent_workers=True,
    drop_last=False,
    sampler=dict(type='DefaultSampler', shuffle=False),
    dataset=dict(
        type='mmmaskformer.CheckedCocoPanopticDataset',
        data_root=data_root,
        metainfo=metainfo,
        ann_file='gtFine/cityscapes_panoptic_val.json',
        data_prefix=dict(img='leftImg8bit_flat/val/',
                         seg='gtFine/cityscapes_panoptic_val_by_image/'),
        test_mode=True,
        pipeline=test_pipeline))
test_dataloader = val_dataloader
val_evaluator = dict(
    type='mmdet.CocoPanopticMetric',
    ann_file=data_root + 'gtFine/cityscapes_panoptic_val.json',
    seg_prefix=data_root + 'gtFine/cityscapes_panoptic_val_by_image/')
test_evaluator = val_evaluator
