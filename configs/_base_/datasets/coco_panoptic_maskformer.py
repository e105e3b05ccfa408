# COCO panoptic with the official DETR-style augmentation
# (DETRPanopticDatasetMapper): flip, then either a short-edge resize to
# 480..800 (step 32, max 1333), or a resize to {400, 500, 600}, a random crop
# of 384..600 and the same short-edge resize. No colour jitter, no padding to
# a fixed size. Crowd segments and VOID are background in the targets.
# Layout (mmdet's): data/coco/{train2017,val2017}/,
# data/coco/annotations/panoptic_{train,val}2017.json and PNG folders.
data_root = 'data/coco/'
max_size = 1333
short_edges = [(max_size, s) for s in range(480, 801, 32)]
train_pipeline = [
    dict(type='mmmaskformer.LoadCheckedImage'),
    dict(type='mmmaskformer.LoadCheckedPanopticAnnotations'),
    dict(type='mmmaskformer.DropCrowdInstances'),
    dict(type='mmdet.RandomFlip', prob=0.5),
    dict(
        type='RandomChoice',
        transforms=[[
            dict(type='RandomChoiceResize', scales=short_edges,
                 resize_type='mmdet.Resize', keep_ratio=True)
        ],
                    [
                        dict(type='RandomChoiceResize',
                             scales=[(max_size, 400), (max_size, 500),
                                     (max_size, 600)],
                             resize_type='mmdet.Resize', keep_ratio=True),
                        dict(type='mmdet.RandomCrop',
                             crop_type='absolute_range',
                             crop_size=(384, 600),
                             allow_negative_crop=True),
                        dict(type='RandomChoiceResize', scales=short_edges,
                             resize_type='mmdet.Resize', keep_ratio=True)
                    ]]),
    dict(type='mmmaskformer.AddLabelLists'),
    dict(type='mmdet.PackDetInputs',
         meta_keys=('img_id', 'img_path', 'ori_shape', 'img_shape', 'scale_factor',
                   'flip', 'flip_direction', 'seg_labels', 'instance_labels'))
]
test_pipeline = [
    dict(type='mmmaskformer.LoadCheckedImage'),
    dict(type='mmdet.Resize', scale=(1333, 800), keep_ratio=True),
    dict(type='mmmaskformer.LoadCheckedPanopticAnnotations'),
    dict(
        type='mmdet.PackDetInputs',
        meta_keys=('img_id', 'img_path', 'ori_shape', 'img_shape',
                   'scale_factor'))
]
train_dataloader = dict(
    batch_size=1,
    num_workers=4,
    persistent_workers=True,
    sampler=dict(type='mmmaskformer.PositionalInfiniteSampler', shuffle=True),
    dataset=dict(
        type='mmmaskformer.CheckedCocoPanopticDataset',
        data_root=data_root,
        ann_file='annotations/panoptic_train2017.json',
        data_prefix=dict(
            img='train2017/', seg='annotations/panoptic_train2017/'),
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
        ann_file='annotations/panoptic_val2017.json',
        data_prefix=dict(img='val2017/', seg='annotations/panoptic_val2017/'),
        test_mode=True,
        pipeline=test_pipeline))
test_dataloader = val_dataloader
val_evaluator = dict(
    type='mmdet.CocoPanopticMetric',
    ann_file=data_root + 'annotations/panoptic_val2017.json',
    seg_prefix=data_root + 'annotations/panoptic_val2017/')
test_evaluator = val_evaluator
