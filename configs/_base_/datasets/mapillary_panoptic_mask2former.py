# Mapillary Vistas v1.2 panoptic (65 classes, 37 things) with the official
# Mask2Former augmentation (MaskFormerPanopticDatasetMapper,
# Base-MapillaryVistas-PanopticSegmentation.yaml): short edge a random choice
# of x0.5..x2.0 of 2048 (1024..4096, max 8192), random 1024x1024 crop, SSD
# colour jitter, flip, pad to exactly 1024x1024 (image 128 before
# normalisation, semantic label ignore, instance masks 0 = VOID). Test:
# short side 2048, max 2048 (so the long side is 2048), batch padded to a
# multiple of 32. Crowd segments and VOID are background in the targets.
#
# Data: the release's COCO panoptic files (training/v1.2/panoptic/
# panoptic_2018.json and PNGs; docs/configs.md, "Data preparation") read
# with our CheckedCocoPanopticDataset (mmdet's CocoPanopticDataset) and the
# Mapillary metainfo below (the names, things and colours of the official
# register_mapillary_vistas_panoptic.py, which copies the JSON's
# categories).
#
# Label order: mmdet numbers the classes in the order of the JSON's
# categories (pycocotools' getCatIds; the order of metainfo 'classes' does
# not change it), the official contiguous order, where things and stuff
# interleave. The things are therefore given to the model by label
# (thing_labels, the model's thing_classes), not as the first classes.
data_root = 'data/mapillary/'
crop_size = (1024, 1024)
classes = (
    'Bird', 'Ground Animal', 'Curb', 'Fence', 'Guard Rail', 'Barrier', 'Wall',
    'Bike Lane', 'Crosswalk - Plain', 'Curb Cut', 'Parking',
    'Pedestrian Area', 'Rail Track', 'Road', 'Service Lane', 'Sidewalk',
    'Bridge', 'Building', 'Tunnel', 'Person', 'Bicyclist', 'Motorcyclist',
    'Other Rider', 'Lane Marking - Crosswalk', 'Lane Marking - General',
    'Mountain', 'Sand', 'Sky', 'Snow', 'Terrain', 'Vegetation', 'Water',
    'Banner', 'Bench', 'Bike Rack', 'Billboard', 'Catch Basin', 'CCTV Camera',
    'Fire Hydrant', 'Junction Box', 'Mailbox', 'Manhole', 'Phone Booth',
    'Pothole', 'Street Light', 'Pole', 'Traffic Sign Frame', 'Utility Pole',
    'Traffic Light', 'Traffic Sign (Back)', 'Traffic Sign (Front)',
    'Trash Can', 'Bicycle', 'Boat', 'Bus', 'Car', 'Caravan', 'Motorcycle',
    'On Rails', 'Other Vehicle', 'Trailer', 'Truck', 'Wheeled Slow',
    'Car Mount', 'Ego Vehicle')
thing_labels = [0, 1, 8, 19, 20, 21, 22, 23, 32, 33, 34, 35, 36, 37, 38, 39,
                40, 41, 42, 44, 45, 46, 47, 48, 49, 50, 51, 52, 53, 54, 55,
                56, 57, 59, 60, 61, 62]
metainfo = dict(
    classes=classes,
    thing_classes=tuple(classes[i] for i in thing_labels),
    stuff_classes=tuple(c for i, c in enumerate(classes)
                        if i not in thing_labels),
    palette=[
        (165, 42, 42), (0, 192, 0), (196, 196, 196), (190, 153, 153),
        (180, 165, 180), (90, 120, 150), (102, 102, 156), (128, 64, 255),
        (140, 140, 200), (170, 170, 170), (250, 170, 160), (96, 96, 96),
        (230, 150, 140), (128, 64, 128), (110, 110, 110), (244, 35, 232),
        (150, 100, 100), (70, 70, 70), (150, 120, 90), (220, 20, 60),
        (255, 0, 0), (255, 0, 100), (255, 0, 200), (200, 128, 128),
        (255, 255, 255), (64, 170, 64), (230, 160, 50), (70, 130, 180),
        (190, 255, 255), (152, 251, 152), (107, 142, 35), (0, 170, 30),
        (255, 255, 128), (250, 0, 30), (100, 140, 180), (220, 220, 220),
        (220, 128, 128), (222, 40, 40), (100, 170, 30), (40, 40, 40),
        (33, 33, 33), (100, 128, 160), (142, 0, 0), (70, 100, 150),
        (210, 170, 100), (153, 153, 153), (128, 128, 128), (0, 0, 80),
        (250, 170, 30), (192, 192, 192), (220, 220, 0), (140, 140, 20),
        (119, 11, 32), (150, 0, 255), (0, 60, 100), (0, 0, 142), (0, 0, 90),
        (0, 0, 230), (0, 80, 100), (128, 64, 64), (0, 0, 110), (0, 0, 70),
        (0, 0, 192), (32, 32, 32), (120, 10, 10)
    ])
train_pipeline = [
    dict(type='mmmaskformer.LoadCheckedImage'),
    dict(type='mmmaskformer.LoadCheckedPanopticAnnotations'),
    dict(type='mmmaskformer.DropCrowdInstances'),
    dict(
        type='RandomChoiceResize',
        scales=[(8192, int(2048 * x * 0.1)) for x in range(5, 21)],
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
         meta_keys=('img_id', 'img_path', 'ori_shape', 'img_shape',
                    'scale_factor', 'flip', 'flip_direction', 'seg_labels',
                    'instance_labels'))
]
test_pipeline = [
    dict(type='mmmaskformer.LoadCheckedImage'),
    dict(type='mmdet.Resize', scale=(2048, 2048), keep_ratio=True),
    dict(type='mmmaskformer.LoadCheckedPanopticAnnotations'),
    dict(
        type='mmdet.PackDetInputs',
        meta_keys=('img_id', 'img_path', 'ori_shape', 'img_shape',
                   'scale_factor'))
]
train_dataloader = dict(
    batch_size=2,
    num_workers=10,  # official NUM_WORKERS 10
    persistent_workers=True,
    sampler=dict(type='mmmaskformer.PositionalInfiniteSampler', shuffle=True),
    dataset=dict(
        type='mmmaskformer.CheckedCocoPanopticDataset',
        data_root=data_root,
        metainfo=metainfo,
        ann_file='training/v1.2/panoptic/panoptic_2018.json',
        data_prefix=dict(img='training/images/',
                         seg='training/v1.2/panoptic/'),
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
        ann_file='validation/v1.2/panoptic/panoptic_2018.json',
        data_prefix=dict(img='validation/images/',
                         seg='validation/v1.2/panoptic/'),
        test_mode=True,
        pipeline=test_pipeline))
test_dataloader = val_dataloader
val_evaluator = dict(
    type='mmdet.CocoPanopticMetric',
    ann_file=data_root + 'validation/v1.2/panoptic/panoptic_2018.json',
    seg_prefix=data_root + 'validation/v1.2/panoptic/')
test_evaluator = val_evaluator
