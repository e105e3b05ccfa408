# ADE20K-Full (847 classes, ignore 65535, 16-bit labels), prepared by
# tools/dataset_converters/ade20k_full.py from the ADE20K_2021_17_01 release,
# with the official Base-ADE20KFull-847.yaml input recipe: short edge x0.5..
# x2.0 of 512 (max 2048), random 512x512 crop, SSD colour jitter, flip, pad
# to the crop with 128 / 65535. Test: short side 512 (max 2048), single
# scale; mIoU over the 847 classes ignoring 65535.
dataset_type = 'mmmaskformer.ADE20KFullDataset'
data_root = 'data/ADE20K_2021_17_01/'
crop_size = (512, 512)
ignore_index = 65535
train_pipeline = [
    dict(type='mmmaskformer.LoadCheckedImage'),
    dict(type='mmmaskformer.LoadCheckedAnnotations'),
    dict(
        type='RandomChoiceResize',
        scales=[int(512 * x * 0.1) for x in range(5, 21)],
        resize_type='ResizeShortestEdge',
        max_size=2048),
    dict(type='RandomCrop', crop_size=crop_size, cat_max_ratio=1.0,
         ignore_index=ignore_index),
    dict(type='PhotoMetricDistortion'),
    dict(type='RandomFlip', prob=0.5),
    dict(type='Pad', size=crop_size, pad_val=dict(img=128, seg=ignore_index)),
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
# official: TEST.AUG is off for ADE20K-Full; --tta uses the ADE20K-150 views
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
        data_prefix=dict(img_path='images_detectron2/training',
                         seg_map_path='annotations_detectron2/training'),
        pipeline=train_pipeline))
val_dataloader = dict(
    batch_size=1,
    num_workers=4,
    persistent_workers=True,
    sampler=dict(type='DefaultSampler', shuffle=False),
    dataset=dict(
        type=dataset_type,
        data_root=data_root,
        data_prefix=dict(img_path='images_detectron2/validation',
                         seg_map_path='annotations_detectron2/validation'),
        pipeline=test_pipeline))
test_dataloader = val_dataloader
val_evaluator = dict(type='mmmaskformer.WideLabelIoUMetric', iou_metrics=['mIoU'],
                     ignore_index=ignore_index)
test_evaluator = val_evaluator
