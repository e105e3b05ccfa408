# MaskFormer R50 ADE20K in the opt-in memory-efficient mode: Mask2Former's
# point-sampled matching (112 x 112 = 12544 uniform points) and losses
# (12544 points by importance sampling, oversample ratio 3, importance ratio
# 0.75) instead of full-resolution masks. Everything else is the exact
# R50 config.
_base_ = ['./maskformer_r50_ade20k.py']
num_points = 112 * 112
model = dict(
    decode_head=dict(
        criterion=dict(
            num_points=num_points,
            oversample_ratio=3.0,
            importance_sample_ratio=0.75,
            assigner=dict(num_points=num_points))))
