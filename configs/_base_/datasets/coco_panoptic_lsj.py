# COCO panoptic with the official Mask2Former large-scale jittering
# (COCOPanopticNewBaselineDatasetMapper, INPUT.DATASET_MAPPER_NAME
# coco_panoptic_lsj): horizontal flip, resize by a random factor 0.1..2.0 of
# a 1024x1024 target (keeping the ratio: detectron2 ResizeScale), a random
# 1024x1024 crop when larger, then padding to exactly 1024x1024 with 128
# (raw image, before normalisation: detectron2 FixedSizeCrop) and the
# ignore label (labels). No colour augmentation. Crowd segments and VOID
# are background in the targets. Test: short side 800, max 1333 (detectron2
# defaults), whole image. Batch 16 (2 images x 8 GPUs).
# Layout (mmdet's): data/coco/{train2017,val2017}/,
# data/coco/annotations/panoptic_{train,val}2017.json and PNG folders.
_base_ = ['./coco_panoptic_maskformer.py']
image_size = (1024, 1024)
train_pipeline = [
    dict(type='mmmaskformer.LoadCheckedImage'),
    dict(type='mmmaskformer.LoadCheckedPanopticAnnotations'),
    dict(type='mmmaskformer.DropCrowdInstances'),
    dict(type='mmdet.RandomFlip', prob=0.5),
    dict(type='mmdet.RandomResize', scale=image_size, ratio_range=(0.1, 2.0),
         resize_type='mmdet.Resize', keep_ratio=True),
    dict(type='mmdet.RandomCrop', crop_size=image_size, crop_type='absolute',
         recompute_bbox=True, allow_negative_crop=True),
    dict(type='mmdet.Pad', size=image_size,
         pad_val=dict(img=(128, 128, 128), masks=0, seg=255)),
    dict(type='mmmaskformer.AddLabelLists'),
    dict(type='mmdet.PackDetInputs',
         meta_keys=('img_id', 'img_path', 'ori_shape', 'img_shape',
                    'scale_factor', 'flip', 'flip_direction', 'seg_labels',
                    'instance_labels'))
]
train_dataloader = dict(batch_size=2,
                        dataset=dict(pipeline=train_pipeline))
