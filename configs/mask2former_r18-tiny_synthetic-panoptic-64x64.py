# The embedded default, panoptic, with Mask2Former: the MaskFormer panoptic
# demo config (same backbone, data, segmentor, metric and schedule) with the
# head switched to Mask2Former's, scored by mmdet's CocoPanopticMetric:
#   python tools/demo.py --model mask2former --task panoptic
# Post-processing by the Mask2Former rules (a segment keeps only its pixels
# with sigmoid >= 0.5); the same model also gives semantic maps
# (semantic_on) and instances (instance_on, top 100 (query, class) pairs of
# the thing classes).
_base_ = ['./maskformer_r18-tiny_synthetic-panoptic-64x64.py']

num_things, num_stuff = 3, 3
num_points = 1024  # 64x64 images (officially 12544 for 1024^2 crops)

model = dict(
    panoptic_head=dict(
        _delete_=True,
        type='mmmaskformer.Mask2FormerHead',  # the one line that switches
        num_classes=num_things + num_stuff,
        in_channels=[16, 32, 64, 128],
        ignore_index=255,
        pixel_decoder=dict(
            type='mmmaskformer.MSDeformAttnPixelDecoder',
            conv_dim=64,
            mask_dim=64,
            num_groups=32,
            num_transformer_levels=3,
            num_encoder_layers=2,
            num_heads=4,
            num_points=4,
            dim_feedforward=256,
            dropout=0.0,
            common_stride=4),
        transformer_decoder=dict(
            type='mmmaskformer.MultiScaleMaskedTransformerDecoder',
            hidden_dim=64,
            num_queries=20,
            num_heads=4,
            dim_feedforward=256,
            num_layers=3,
            dropout=0.0),
        criterion=dict(
            type='mmmaskformer.Mask2FormerCriterion',
            class_weight=2.0,
            mask_weight=5.0,
            dice_weight=5.0,
            no_object_weight=0.1,
            num_points=num_points,
            oversample_ratio=3.0,
            importance_sample_ratio=0.75,
            matcher=dict(
                type='mmmaskformer.PointHungarianMatcher',
                cost_class=2.0,
                cost_mask=5.0,
                cost_dice=5.0,
                num_points=num_points))),
    test_cfg=dict(
        object_mask_threshold=0.8, overlap_threshold=0.8, panoptic_on=True,
        semantic_on=True))

optim_wrapper = dict(optimizer=dict(weight_decay=0.05))  # official 0.05
