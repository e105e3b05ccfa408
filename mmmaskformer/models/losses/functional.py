"""MaskFormer losses and matching costs as pure functions.

Formulas and constants follow the official release (criterion.py and
matcher.py): focal alpha 0.25 / gamma 2, dice smoothing +1 in numerator and
denominator, focal averaged over pixels per mask.

Shapes: N predicted masks, M target masks, P pixels (flattened).
"""
import torch
import torch.nn.functional as F


def sigmoid_focal_loss(logits: torch.Tensor, targets: torch.Tensor,
                       alpha: float = 0.25, gamma: float = 2.0
                       ) -> torch.Tensor:
    """Per-mask sigmoid focal loss, mean over pixels.

    logits, targets: (N, P) -> (N,).
    ``alpha_t * (1 - p_t) ** gamma * BCE(x, t)`` per pixel.
    """
    prob = logits.sigmoid()
    ce = F.binary_cross_entropy_with_logits(logits, targets, reduction='none')
    p_t = prob * targets + (1 - prob) * (1 - targets)
    loss = ce * (1 - p_t)**gamma
    if alpha >= 0:
        loss = (alpha * targets + (1 - alpha) * (1 - targets)) * loss
    return loss.mean(1)


def dice_loss(logits: torch.Tensor, targets: torch.Tensor) -> torch.Tensor:
    """Per-mask dice loss ``1 - (2 sum(p t) + 1) / (sum p + sum t + 1)``.

    logits, targets: (N, P) -> (N,).
    """
    prob = logits.sigmoid()
    numerator = 2 * (prob * targets).sum(-1)
    denominator = prob.sum(-1) + targets.sum(-1)
    return 1 - (numerator + 1) / (denominator + 1)


def pairwise_sigmoid_focal_cost(logits: torch.Tensor, targets: torch.Tensor,
                                alpha: float = 0.25, gamma: float = 2.0
                                ) -> torch.Tensor:
    """Focal loss of every prediction against every target, mean over pixels.

    logits: (N, P), targets: (M, P) float in {0, 1} -> (N, M).
    Equals ``sigmoid_focal_loss(logits[n], targets[m])`` for each pair.
    """
    num_pixels = logits.shape[1]
    prob = logits.sigmoid()
    # the same values as (1 - prob)**gamma * BCE(x, 1), prob**gamma *
    # BCE(x, 0), with three (N, P) tensors alive at most: the matcher runs it
    # on every layer's and image's predictions at once
    one = logits.new_ones(()).expand_as(logits)  # no memory
    focal_pos = F.binary_cross_entropy_with_logits(
        logits, one, reduction='none').mul_((1 - prob).pow_(gamma))
    focal_neg = F.binary_cross_entropy_with_logits(
        logits, one.new_zeros(()).expand_as(logits),
        reduction='none').mul_(prob.pow_(gamma))
    del prob
    if alpha >= 0:
        focal_pos.mul_(alpha)
        focal_neg.mul_(1 - alpha)
    # matrix products (not einsum: fewer dispatched ops, same sums)
    cost = focal_pos @ targets.t() + focal_neg @ (1 - targets).t()  # (N, M)
    return cost / num_pixels


def pairwise_dice_cost(logits: torch.Tensor,
                       targets: torch.Tensor) -> torch.Tensor:
    """Dice loss of every prediction against every target.

    logits: (N, P), targets: (M, P) -> (N, M).
    """
    prob = logits.sigmoid()
    numerator = 2 * (prob @ targets.t())  # (N, M)
    denominator = prob.sum(-1)[:, None] + targets.sum(-1)[None, :]
    return 1 - (numerator + 1) / (denominator + 1)
