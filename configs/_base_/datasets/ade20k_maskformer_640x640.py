# ADE20K-150 at crop 640 (official Swin-B/L "res640" configs): scales
# x0.5..x2.0 of 640 (max 2560), test short side 640 (max 2560).
_base_ = ['./ade20k_maskformer.py']
crop_size = (640, 640)
train_pipeline = [
    dict(type='mmmaskformer.LoadCheckedImage'),
    dict(type='mmmaskformer.LoadCheckedAnnotations'),
    dict(
        type='RandomChoiceResize',
        scales=[int(640 * x * 0.1) for x in range(5, 21)],
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
train_dataloader = dict(dataset=dict(pipeline=train_pipeline))
val_dataloader = dict(dataset=dict(pipeline=test_pipeline))
test_dataloader = val_dataloader
