"""The MaskFormer mask losses: sigmoid focal and dice on matched masks.

Named ``MaskFocalLoss``/``MaskDiceLoss`` (not ``FocalLoss``/``DiceLoss``):
mmdet registers classes of those names with other signatures, and a config
must not be able to pick up the wrong one.

Each module holds its ``loss_weight`` and computes its loss two ways:

* ``forward(logits, targets, num_masks)``: on (N, P) logits and targets
  already at the same points (the point-sampled mode);
* :func:`upsampled_focal_dice`: both losses at the targets' full
  resolution from stride-4 logits, without keeping full-size intermediates
  for the backward pass (the exact mode, see that function).
"""
from typing import Tuple

import torch
import torch.nn.functional as F
from torch import nn

from mmmaskformer.registry import MODELS
from .functional import dice_loss, sigmoid_focal_loss

# masks per chunk so that one chunk's full-size temporaries stay near
# 2**22 floats (16 MiB) whatever the image size
CHUNK_ELEMENTS = 1 << 22


@MODELS.register_module()
class MaskFocalLoss(nn.Module):
    """Sigmoid focal loss (mean over pixels), summed over masks /
    ``num_masks``."""

    def __init__(self, alpha: float = 0.25, gamma: float = 2.0,
                 loss_weight: float = 20.0) -> None:
        super().__init__()
        self.alpha, self.gamma, self.loss_weight = alpha, gamma, loss_weight

    def forward(self, logits: torch.Tensor, targets: torch.Tensor,
                num_masks) -> torch.Tensor:
        """logits, targets: (N, P)."""
        return sigmoid_focal_loss(logits, targets, self.alpha,
                                  self.gamma).sum() / num_masks


@MODELS.register_module()
class MaskDiceLoss(nn.Module):
    """Dice loss (+1 smoothing), summed over masks / ``num_masks``."""

    def __init__(self, loss_weight: float = 1.0) -> None:
        super().__init__()
        self.loss_weight = loss_weight

    def forward(self, logits: torch.Tensor, targets: torch.Tensor,
                num_masks) -> torch.Tensor:
        return dice_loss(logits, targets).sum() / num_masks


def _upsample(logits: torch.Tensor, size) -> torch.Tensor:
    return F.interpolate(logits[:, None], size=size, mode='bilinear',
                         align_corners=False)[:, 0]


def _focal_grad(x, t, alpha: float, gamma: float) -> torch.Tensor:
    """d/dx of the per-pixel sigmoid focal loss (any t in [0, 1])."""
    p = torch.sigmoid(x)
    ce = F.binary_cross_entropy_with_logits(x, t, reduction='none')
    one_minus_pt = p + t - 2 * p * t  # 1 - p_t
    dp = p * (1 - p)
    grad = (one_minus_pt**gamma) * (p - t) - \
        gamma * one_minus_pt**(gamma - 1) * (2 * t - 1) * dp * ce
    if alpha >= 0:
        grad = grad * (alpha * t + (1 - alpha) * (1 - t))
    return grad


def _dice_grad(x, t) -> torch.Tensor:
    """d/dx of the per-mask dice loss; x, t (n, P)."""
    p = torch.sigmoid(x)
    a = 2 * (p * t).sum(-1, keepdim=True) + 1
    b = p.sum(-1, keepdim=True) + t.sum(-1, keepdim=True) + 1
    return -(2 * t * b - a) / b**2 * p * (1 - p)


class _UpsampledFocalDice(torch.autograd.Function):
    """Per-mask focal and dice losses of bilinearly upsampled logits; saves
    only the stride-4 logits and the targets, and recomputes the upsampling
    (in chunks of masks) in the backward pass."""

    @staticmethod
    def forward(ctx, logits, targets, alpha, gamma):
        size = targets.shape[-2:]
        chunk = max(1, CHUNK_ELEMENTS // (size[0] * size[1]))
        focal, dice = [], []
        for i in range(0, len(logits), chunk):
            up = _upsample(logits[i:i + chunk], size).flatten(1)
            t = targets[i:i + chunk].flatten(1)
            focal.append(sigmoid_focal_loss(up, t, alpha, gamma))
            dice.append(dice_loss(up, t))
        ctx.save_for_backward(logits, targets)
        ctx.alpha, ctx.gamma, ctx.chunk = alpha, gamma, chunk
        return torch.cat(focal), torch.cat(dice)

    @staticmethod
    def backward(ctx, g_focal, g_dice):
        logits, targets = ctx.saved_tensors
        size = targets.shape[-2:]
        num_pixels = size[0] * size[1]
        grad = torch.empty_like(logits)
        for i in range(0, len(logits), ctx.chunk):
            x = _upsample(logits[i:i + ctx.chunk], size).flatten(1)
            t = targets[i:i + ctx.chunk].flatten(1)
            g = _focal_grad(x, t, ctx.alpha, ctx.gamma) * (
                g_focal[i:i + ctx.chunk, None] / num_pixels)
            g = g + _dice_grad(x, t) * g_dice[i:i + ctx.chunk, None]
            grad[i:i + ctx.chunk] = torch.ops.aten.upsample_bilinear2d_backward(
                g.view(-1, 1, *size), list(size), [len(g), 1,
                                                   *logits.shape[-2:]],
                False, None, None)[:, 0]
        return grad, None, None, None


def upsampled_focal_dice(logits: torch.Tensor, targets: torch.Tensor,
                         alpha: float = 0.25, gamma: float = 2.0
                         ) -> Tuple[torch.Tensor, torch.Tensor]:
    """Focal and dice losses of the matched masks at full resolution.

    logits (N, h, w) at stride 4, targets (N, H, W) -> per-mask (N,) focal
    losses (mean over pixels) and dice losses of
    ``interpolate(logits, (H, W), bilinear, align_corners=False)`` against
    the targets: the official numbers. Autograd keeps only the inputs; the
    backward recomputes the upsampling chunk by chunk and applies the
    closed-form gradients, so no (N, H, W) intermediate outlives the call.
    """
    return _UpsampledFocalDice.apply(logits, targets.to(logits.dtype),
                                     alpha, gamma)
