# The embedded default with Mask2Former: the MaskFormer demo config
# (same backbone, data, pipeline, segmentor, metric and schedule) with the
# head switched to Mask2Former's: deformable pixel decoder, masked-attention
# decoder, point-sampled matching and losses. Small sizes, trained from
# scratch on the generated shapes dataset in minutes on 2 CPU cores:
#   python tools/demo.py --model mask2former --task semantic
_base_ = ['./maskformer_r18-tiny_synthetic-64x64.py']

num_classes = 6
# 64x64 images, 16x16 mask logits: 1024 points per mask (the official 12544
# = 112^2 points are for 1024^2 crops)
num_points = 1024

model = dict(
    decode_head=dict(
        _delete_=True,
        type='mmmaskformer.Mask2FormerHead',  # the one line that switches
        num_classes=num_classes,
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
            num_layers=3,  # one round over the three scales, 4 predictions
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
                num_points=num_points))))

# the official Mask2Former weight decay (0.05); the rest as the MaskFormer
# demo (AdamW 3e-4 from scratch, no decay on norms and embeddings, clip 0.01)
optim_wrapper = dict(optimizer=dict(weight_decay=0.05))
