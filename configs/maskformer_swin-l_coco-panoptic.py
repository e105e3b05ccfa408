# MaskFormer Swin-L (IN-22K, 384), COCO panoptic: the plain FPN pixel decoder
# (no encoder) and the transformer decoder on res5 with its input projection
# (ENFORCE_INPUT_PROJ), lr 6e-5, wd 0.01, backbone lr multiplier 1.0 (mmdet's
# own Swin-L config silently keeps the R50 base's 0.1), max train size 1000.
# Official: configs/coco-panoptic/swin/
# maskformer_panoptic_swin_large_IN21k_384_bs64_554k.yaml, 52.7 PQ.
_base_ = ['./maskformer_r50_coco-panoptic.py']
max_size = 1000
short_edges = [(max_size, s) for s in range(480, 801, 32)]
model = dict(
    backbone=dict(
        _delete_=True,
        type='SwinTransformer',
        pretrain_img_size=384,
        embed_dims=192,
        patch_size=4,
        window_size=12,
        mlp_ratio=4,
        depths=[2, 2, 18, 2],
        num_heads=[6, 12, 24, 48],
        strides=(4, 2, 2, 2),
        out_indices=(0, 1, 2, 3),
        qkv_bias=True,
        qk_scale=None,
        patch_norm=True,
        drop_rate=0.,
        attn_drop_rate=0.,
        drop_path_rate=0.3,
        use_abs_pos_embed=False,
        act_cfg=dict(type='GELU'),
        norm_cfg=dict(type='LN', requires_grad=True),
        init_cfg=dict(
            type='Pretrained',
            checkpoint='data/pretrained/swin_large_patch4_window12_384_22k.pth'
        )),
    panoptic_head=dict(
        in_channels=[192, 384, 768, 1536],
        pixel_decoder=dict(
            _delete_=True,
            type='FPNPixelDecoder',
            conv_dim=256,
            mask_dim=256),
        transformer_decoder=dict(enforce_input_proj=True)))
train_pipeline = [
    dict(type='LoadImageFromFile'),
    dict(type='mmdet.LoadPanopticAnnotations'),
    dict(type='DropCrowdInstances'),
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
    dict(type='mmdet.PackDetInputs')
]
train_dataloader = dict(dataset=dict(pipeline=train_pipeline))
optim_wrapper = dict(
    optimizer=dict(lr=6e-5, weight_decay=0.01),
    paramwise_cfg=dict(
        norm_decay_mult=0.0,
        custom_keys={
            'backbone': dict(lr_mult=1.0),
            'query_embed': dict(decay_mult=0.0),
            'relative_position_bias_table': dict(decay_mult=0.0),
            'absolute_pos_embed': dict(decay_mult=0.0)
        }))
