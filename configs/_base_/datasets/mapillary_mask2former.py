# Mapillary Vistas v1.2 semantic (65 classes) with the official Mask2Former
# augmentation (MaskFormerSemanticDatasetMapper,
# Base-MapillaryVistas-SemanticSegmentation.yaml): short edge a random choice
# of x0.5..x2.0 of 2048 (1024..4096, max 8192), random 1024x1024 crop (no
# single-category constraint), SSD colour jitter, flip, pad to exactly the
# crop with 128 / ignore. Test: short side 2048, max 2048 (so the long side
# is 2048), whole image. The official config has no TEST.AUG (no --tta
# pipeline here).
# Labels: mmseg's MapillaryDataset_v1 (66 names, the last one 'Unlabeled')
# with the first 65 as metainfo, as mmseg's mapillary_v1_65.py: mmseg then
# maps the stored value 65 (Unlabeled, the official IGNORE_VALUE 65) to 255,
# the ignore index of the head and of the metric; values 0-64 are the
# official contiguous ids. mmseg's layout: data/mapillary/{training,
# validation}/images/*.jpg and {training,validation}/v1.2/labels/*.png
# (docs/configs.md, "Data preparation").
dataset_type = 'MapillaryDataset_v1'
data_root = 'data/mapillary/'
crop_size = (1024, 1024)
metainfo = dict(
    classes=(
        'Bird', 'Ground Animal', 'Curb', 'Fence', 'Guard Rail', 'Barrier',
        'Wall', 'Bike Lane', 'Crosswalk - Plain', 'Curb Cut', 'Parking',
        'Pedestrian Area', 'Rail Track', 'Road', 'Service Lane', 'Sidewalk',
        'Bridge', 'Building', 'Tunnel', 'Person', 'Bicyclist', 'Motorcyclist',
        'Other Rider', 'Lane Marking - Crosswalk', 'Lane Marking - General',
        'Mountain', 'Sand', 'Sky', 'Snow', 'Terrain', 'Vegetation', 'Water',
        'Banner', 'Bench', 'Bike Rack', 'Billboard', 'Catch Basin',
        'CCTV Camera', 'Fire Hydrant', 'Junction Box', 'Mailbox', 'Manhole',
        'Phone Booth', 'Pothole', 'Street Light', 'Pole',
        'Traffic Sign Frame', 'Utility Pole', 'Traffic Light',
        'Traffic Sign (Back)', 'Traffic Sign (Front)', 'Trash Can', 'Bicycle',
        'Boat', 'Bus', 'Car', 'Caravan', 'Motorcycle', 'On Rails',
        'Other Vehicle', 'Trailer', 'Truck', 'Wheeled Slow', 'Car Mount',
        'Ego Vehicle'))
train_pipeline = [
    dict(type='mmmaskformer.LoadCheckedImage'),
    dict(type='mmmaskformer.LoadCheckedAnnotations'),
    dict(
        type='RandomChoiceResize',
        scales=[int(2048 * x * 0.1) for x in range(5, 21)],
        resize_type='ResizeShortestEdge',
        max_size=8192),
    dict(type='RandomCrop', crop_size=crop_size, cat_max_ratio=1.0),
    dict(type='PhotoMetricDistortion'),
    dict(type='RandomFlip', prob=0.5),
    # official: pad to exactly the crop with 128 (image, before
    # normalisation) and the ignore label (labels)
    dict(type='Pad', size=crop_size, pad_val=dict(img=128, seg=255)),
    dict(type='mmmaskformer.AddLabelLists'),
    dict(type='PackSegInputs',
         meta_keys=('img_path', 'seg_map_path', 'ori_shape', 'img_shape', 'pad_shape',
                   'scale_factor', 'flip', 'flip_direction', 'reduce_zero_label',
                   'seg_labels'))
]
test_pipeline = [
    dict(type='mmmaskformer.LoadCheckedImage'),
    dict(type='ResizeShortestEdge', scale=2048, max_size=2048),
    dict(type='mmmaskformer.LoadCheckedAnnotations'),
    dict(type='PackSegInputs')
]
train_dataloader = dict(
    batch_size=2,
    num_workers=10,  # official NUM_WORKERS 10
    persistent_workers=True,
    sampler=dict(type='mmmaskformer.PositionalInfiniteSampler', shuffle=True),
    dataset=dict(
        type=dataset_type,
        data_root=data_root,
        metainfo=metainfo,
        data_prefix=dict(img_path='training/images',
                         seg_map_path='training/v1.2/labels'),
        pipeline=train_pipeline))
val_dataloader = dict(
    batch_size=1,
    num_workers=4,
    persistent_workers=True,
    sampler=dict(type='DefaultSampler', shuffle=False),
    dataset=dict(
        type=dataset_type,
        data_root=data_root,
        metainfo=metainfo,
        data_prefix=dict(img_path='validation/images',
                         seg_map_path='validation/v1.2/labels'),
        pipeline=test_pipeline))
test_dataloader = val_dataloader
val_evaluator = dict(type='mmmaskformer.WideLabelIoUMetric', iou_metrics=['mIoU'])
test_evaluator = val_evaluator
