from .functional import (dice_loss, pairwise_dice_cost,
                         pairwise_sigmoid_focal_cost, sigmoid_focal_loss)
from .set_criterion import (DiceLoss, FocalLoss, MaskClassificationLoss,
                            SetCriterion)

__all__ = [
    'dice_loss', 'pairwise_dice_cost', 'pairwise_sigmoid_focal_cost',
    'sigmoid_focal_loss', 'DiceLoss', 'FocalLoss', 'MaskClassificationLoss',
    'SetCriterion'
]
