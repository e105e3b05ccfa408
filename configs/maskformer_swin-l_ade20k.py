# MaskFormer Swin-L (IN-22K, 384 pre-training), ADE20K-150, 640x640,
# 8 GPUs x 2 images, 160k iterations. Official:
# configs/ade20k-150/swin/maskformer_swin_large_IN21k_384_bs16_160k_res640.yaml,
# 54.1 mIoU s.s. / 55.6 ms+flip.
_base_ = [
    './_base_/models/maskformer_r50.py',
    './_base_/datasets/ade20k_maskformer_640x640.py',
    './_base_/default_runtime.py',
    './_base_/schedules/schedule_160k_adamw.py',
]
crop_size = (640, 640)
model = dict(
    data_preprocessor=dict(size=crop_size),
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
    decode_head=dict(in_channels=[192, 384, 768, 1536]))
# Swin: AdamW lr 6e-5, wd 0.01, backbone lr x1.0, no decay on norms, the query
# embedding and the relative position tables; linear warm-up over 1500
# iterations from 1e-6 multiplied into poly(0.9) over the whole run, as
# detectron2's WarmupPolyLR.
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
param_scheduler = [
    dict(
        type='LinearLR', start_factor=1e-6, by_epoch=False, begin=0,
        end=1500),
    dict(
        type='PolyLR', eta_min=0, power=0.9, begin=0, end=160000,
        by_epoch=False)
]
