# COCO-Stuff-10K (171 classes; mmseg's COCOStuffDataset and its
# coco_stuff10k.py converter) with the official MaskFormer semantic augmentation: short-edge
# resize to a random choice of x0.5..x1.5 of 640 (max 2560), random crop
# (640, 640), SSD colour jitter, flip; test at short side 640 (max
# 2560), whole image; TTA: 6 short sides x0.5-1.75 + flip.
# Written out from mmseg's _base_/datasets/coco-stuff10k.py rather than inherited: a
# the pipelines are the official ones with our checking loaders, and a list
# in an inherited base can only be replaced whole.
dataset_type = 'COCOStuffDataset'
data_root = 'data/coco_stuff10k'
crop_size = (640, 640)
train_pipeline = [
    dict(type='mmmaskformer.LoadCheckedImage'),
    dict(type='mmmaskformer.LoadCheckedAnnotations'),
    dict(
        type='RandomChoiceResize',
        scales=[int(640 * x * 0.1) for x in range(5, 16)],
        resize_type='ResizeShortestEdge',
        max_size=2560),
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
    dict(type='ResizeShortestEdge', scale=640, max_size=2560),
    dict(type='mmmaskformer.LoadCheckedAnnotations'),
    dict(type='PackSegInputs')
]
tta_pipeline = [
    dict(type='mmmaskformer.LoadCheckedImage', backend_args=None),
    dict(
        type='TestTimeAug',
        transforms=[[
            dict(type='ResizeShortestEdge', scale=s, max_size=4480)
            for s in (320, 480, 640, 800, 960, 1120)
        ],
                    [
                        dict(type='RandomFlip', prob=0., direction='horizontal'),
                        dict(type='RandomFlip', prob=1., direction='horizontal')
                    ], [dict(type='mmmaskformer.LoadCheckedAnnotations')],
                    [dict(type='PackSegInputs')]])
]
train_dataloader = dict(
    batch_size=4,
    num_workers=4,
    persistent_workers=True,
    sampler=dict(type='mmmaskformer.PositionalInfiniteSampler', shuffle=True),
    dataset=dict(
        type=dataset_type,
        data_root=data_root,
        reduce_zero_label=True,
        data_prefix=dict(
            img_path='images/train2014', seg_map_path='annotations/train2014'),
        pipeline=train_pipeline))
val_dataloader = dict(
    batch_size=1,
    num_workers=4,
    persistent_workers=True,
    sampler=dict(type='DefaultSampler', shuffle=False),
    dataset=dict(
        type=dataset_type,
        data_root=data_root,
        reduce_zero_label=True,
        data_prefix=dict(
            img_path='images/test2014', seg_map_path='annotations/test2014'),
        pipeline=test_pipeline))
test_dataloader = val_dataloader
val_evaluator = dict(type='mmmaskformer.WideLabelIoUMetric', iou_metrics=['mIoU'])
test_evaluator = val_evaluator
