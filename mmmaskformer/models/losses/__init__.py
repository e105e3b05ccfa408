from .classification_loss import MaskClassificationLoss
from .functional import (dice_loss, pairwise_dice_cost,
                         pairwise_sigmoid_focal_cost, sigmoid_focal_loss)
from .mask_losses import MaskDiceLoss, MaskFocalLoss, upsampled_focal_dice
from .set_criterion import SetCriterion, flat_matches

__all__ = [
    'dice_loss', 'pairwise_dice_cost', 'pairwise_sigmoid_focal_cost',
    'sigmoid_focal_loss', 'MaskClassificationLoss', 'MaskDiceLoss',
    'MaskFocalLoss', 'SetCriterion', 'flat_matches', 'upsampled_focal_dice'
]
