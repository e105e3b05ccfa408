from .classification_loss import MaskClassificationLoss
from .functional import (
    dice_loss,
    pairwise_dice_cost,
    pairwise_sigmoid_focal_cost,
    sigmoid_focal_loss,
)
from .mask2former_points import Mask2FormerCriterion, PointHungarianMatcher, PointSampler
from .mask_losses import point_sampled_focal_dice, upsampled_focal_dice
from .set_criterion import SetCriterion

__all__ = [
    'Mask2FormerCriterion', 'PointHungarianMatcher', 'PointSampler',
    'dice_loss', 'pairwise_dice_cost', 'pairwise_sigmoid_focal_cost',
    'sigmoid_focal_loss', 'MaskClassificationLoss', 'SetCriterion',
    'point_sampled_focal_dice', 'upsampled_focal_dice'
]
