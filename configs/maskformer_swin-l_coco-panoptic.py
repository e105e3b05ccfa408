# MaskFormer Swin-L (IN-22K, 384), COCO panoptic: the plain FPN pixel decoder
# (no encoder) and the transformer decoder on res5 with its input projection,
# lr 6e-5, wd 0.01, backbone lr multiplier 1.0, max train size 1000.
# Official: configs/coco-panoptic/swin/
# maskformer_panoptic_swin_large_IN21k_384_bs64_554k.yaml, 52.7 PQ.
_base_ = [
    './_base_/models/maskformer_swin_panoptic.py',
    './_base_/datasets/coco_panoptic_maskformer.py',
    './_base_/default_runtime_panoptic.py',
    './_base_/schedules/schedule_coco_panoptic_554k_swin.py',
]
max_size = 1000  # official MAX_SIZE_TRAIN for Swin-L
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
train_dataloader = dict(dataset=dict(pipeline=train_pipeline))
