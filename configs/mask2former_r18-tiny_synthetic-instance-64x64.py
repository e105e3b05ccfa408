# The embedded default, instance segmentation trained directly, with
# Mask2Former: the things of the generated shapes dataset as COCO instances
# (annotations/instances_{train,val}.json, written with the dataset) through
# mmdet's CocoDataset, the Mask2Former panoptic demo model with 3 (thing)
# classes, scored by mmdet's CocoMetric(metric='segm'):
#   python tools/demo.py --model mask2former --task instance
# Instances by the official rule: top 100 of all (query, class) pairs, score
# = class probability x mean mask probability inside the binary mask.
_base_ = ['./mask2former_r18-tiny_synthetic-panoptic-64x64.py']

data_root = 'data/synthetic/'
classes = ('disc', 'box', 'triangle')
metainfo = dict(classes=classes, thing_classes=classes,
                palette=[(230, 200, 40), (150, 60, 200), (40, 200, 220)])

model = dict(
    num_things=len(classes),
    data_preprocessor=dict(pad_seg=False),
    panoptic_head=dict(num_classes=len(classes)),
    # not panoptic: no thing filter on the instances (official instance_on
    # without panoptic_on)
    test_cfg=dict(panoptic_on=False, semantic_on=False, instance_on=True))

dataset_type = 'mmdet.CocoDataset'
train_pipeline = [
    dict(type='mmmaskformer.LoadCheckedImage'),
    dict(type='mmdet.LoadAnnotations', with_bbox=True, with_mask=True),
    dict(type='mmdet.RandomFlip', prob=0.5),
    dict(type='mmmaskformer.AddLabelLists'),
    dict(type='mmdet.PackDetInputs',
         meta_keys=('img_id', 'img_path', 'ori_shape', 'img_shape',
                    'scale_factor', 'flip', 'flip_direction',
                    'instance_labels'))
]
test_pipeline = [
    dict(type='mmmaskformer.LoadCheckedImage'),
    dict(type='mmdet.LoadAnnotations', with_bbox=True, with_mask=True),
    dict(type='mmdet.PackDetInputs',
         meta_keys=('img_id', 'img_path', 'ori_shape', 'img_shape',
                    'scale_factor'))
]
train_dataloader = dict(
    dataset=dict(
        _delete_=True,
        type=dataset_type,
        data_root=data_root,
        metainfo=metainfo,
        ann_file='annotations/instances_train.json',
        data_prefix=dict(img='img_dir/train/'),
        filter_cfg=dict(filter_empty_gt=True),  # official
        pipeline=train_pipeline))
val_dataloader = dict(
    dataset=dict(
        _delete_=True,
        type=dataset_type,
        data_root=data_root,
        metainfo=metainfo,
        ann_file='annotations/instances_val.json',
        data_prefix=dict(img='img_dir/val/'),
        test_mode=True,
        pipeline=test_pipeline))
test_dataloader = val_dataloader
val_evaluator = dict(
    _delete_=True,
    type='mmdet.CocoMetric',
    metric='segm',
    ann_file=data_root + 'annotations/instances_val.json')
test_evaluator = val_evaluator
