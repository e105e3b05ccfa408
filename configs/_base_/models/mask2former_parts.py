# Building blocks of the Mask2Former models, referenced as
# {{_base_.mask2former_criterion}} etc. (official values, spec §1.3-§3).

# The official loss and matching (Mask2Former MaskFormer.from_config):
# matching cost class 2 + BCE 5 + dice 5 on 12544 uniform points per image;
# CE with no-object weight 0.1 (x2), BCE (x5) and dice (x5) on 12544
# importance-sampled points per matched mask (3x oversampling, 75% most
# uncertain), on every prediction (9 layers + the query features: 10).
mask2former_criterion = dict(
    type='mmmaskformer.Mask2FormerCriterion',
    class_weight=2.0,
    mask_weight=5.0,
    dice_weight=5.0,
    no_object_weight=0.1,
    num_points=12544,
    oversample_ratio=3.0,
    importance_sample_ratio=0.75,
    matcher=dict(
        type='mmmaskformer.PointHungarianMatcher',
        cost_class=2.0,
        cost_mask=5.0,
        cost_dice=5.0,
        num_points=12544))

# MSDeformAttnPixelDecoder.from_config: conv/mask dim 256, GN(32), 6
# deformable encoder layers on res3-res5 (8 heads, 4 points, FFN 1024
# hard-coded), dropout 0, one FPN level at stride 4.
mask2former_pixel_decoder = dict(
    type='mmmaskformer.MSDeformAttnPixelDecoder',
    conv_dim=256,
    mask_dim=256,
    num_groups=32,
    num_transformer_levels=3,
    num_encoder_layers=6,
    num_heads=8,
    num_points=4,
    dim_feedforward=1024,
    dropout=0.0,
    common_stride=4)

# MultiScaleMaskedTransformerDecoder.from_config: DEC_LAYERS 10 = 9 layers
# (+ the prediction from the query features), hidden 256, 8 heads, FFN 2048,
# post-norm, dropout 0; 100 queries (200 for the Swin-L rows that say so).
mask2former_transformer_decoder = dict(
    type='mmmaskformer.MultiScaleMaskedTransformerDecoder',
    hidden_dim=256,
    num_queries=100,
    num_heads=8,
    dim_feedforward=2048,
    num_layers=9,
    pre_norm=False,
    enforce_input_proj=False,
    dropout=0.0)
