# ADE20K-150 with the official MaskFormer semantic augmentation:
# short-edge resize to a random choice of x0.5..x2.0 of the crop (16 scales,
# max 4x crop), random crop, SSD colour jitter (mmseg PhotoMetricDistortion),
# horizontal flip, padding to the crop with 128 / ignore.
# Test: short side = crop size (max 4x), whole image.
# Written out from mmseg's _base_/datasets/ade20k.py rather than inherited: a
# the pipelines are the official ones with our checking loaders, and a list
# in an inherited base can only be replaced whole.
dataset_type = 'ADE20KDataset'
data_root = 'data/ade/ADEChallengeData2016'
crop_size = (512, 512)
train_pipeline = [
    dict(type='mmmaskformer.LoadCheckedImage'),
    dict(type='mmmaskformer.LoadCheckedAnnotations'),
    dict(
        type='RandomChoiceResize',
        scales=[int(512 * x * 0.1) for x in range(5, 21)],
        resize_type='ResizeShortestEdge',
        max_size=2048),
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
    dict(type='ResizeShortestEdge', scale=512, max_size=2048),
    dict(type='mmmaskformer.LoadCheckedAnnotations'),
    dict(type='PackSegInputs')
]
# official TEST.AUG: short sides 256..896 (x0.5..x1.75 of 512), max 3584, + flip
tta_pipeline = [
    dict(type='mmmaskformer.LoadCheckedImage', backend_args=None),
    dict(
        type='TestTimeAug',
        transforms=[[
            dict(type='ResizeShortestEdge', scale=s, max_size=3584)
            for s in (256, 384, 512, 640, 768, 896)
        ],
                    [
                        dict(type='RandomFlip', prob=0., direction='horizontal'),
                        dict(type='RandomFlip', prob=1., direction='horizontal')
                    ], [dict(type='mmmaskformer.LoadCheckedAnnotations')],
                    [dict(type='PackSegInputs')]])
]
train_dataloader = dict(
    batch_size=2,
    num_workers=4,
    persistent_workers=True,
    sampler=dict(type='mmmaskformer.PositionalInfiniteSampler', shuffle=True),
    dataset=dict(
        type=dataset_type,
        data_root=data_root,
        data_prefix=dict(img_path='images/training', seg_map_path='annotations/training'),
        pipeline=train_pipeline))
val_dataloader = dict(
    batch_size=1,
    num_workers=4,
    persistent_workers=True,
    sampler=dict(type='DefaultSampler', shuffle=False),
    dataset=dict(
        type=dataset_type,
        data_root=data_root,
        data_prefix=dict(
            img_path='images/validation',
            seg_map_path='annotations/validation'),
        pipeline=test_pipeline))
test_dataloader = val_dataloader
val_evaluator = dict(type='mmmaskformer.WideLabelIoUMetric', iou_metrics=['mIoU'])
test_evaluator = val_evaluator
