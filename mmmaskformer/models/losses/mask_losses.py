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
from typing import Optional, Tuple

import torch
import torch.nn.functional as F
from torch import nn

from mmmaskformer.registry import MODELS
from .functional import dice_loss, sigmoid_focal_loss

# masks per chunk so that one chunk's full-size temporaries stay near
# 2**23 floats (32 MiB each, about ten alive at once) whatever the image size
CHUNK_ELEMENTS = 1 << 23


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


def _upsample_backward(grad: torch.Tensor, size, small) -> torch.Tensor:
    """The adjoint of :func:`_upsample`: (n, H*W) -> (n, h, w)."""
    n = len(grad)
    return torch.ops.aten.upsample_bilinear2d_backward(
        grad.view(n, 1, *size), list(size), [n, 1, *small], False, None,
        None)[:, 0]


def _chunk_losses(x, t, alpha: float, gamma: float, need_grad: bool):
    """One chunk of upsampled logits x and targets t (n, P) (any t in
    [0, 1]): per-mask focal sums / P, the three dice sums and, with
    ``need_grad``, the per-pixel focal gradient (already / P), the sigmoid
    derivative and t times it (the dice gradient is linear in those two).

    With s = 2t - 1: 1 - p_t = t - p s and alpha_t = 1/2 + (alpha - 1/2) s;
    d/dx [alpha_t (1-p_t)^g ce] = alpha_t [(1-p_t)^g (p - t)
    - g (1-p_t)^(g-1) s p (1 - p) ce]. Written with few ops and in place:
    every op is a kernel launch on a GPU.
    """
    num_pixels = x.shape[1]
    p = torch.sigmoid(x)
    ce = F.binary_cross_entropy_with_logits(x, t, reduction='none')
    del x
    s = t * 2
    s -= 1
    one_minus_pt = torch.addcmul(t, p, s, value=-1)
    if alpha >= 0:
        weight = s * ((alpha - 0.5) / num_pixels)
        weight += 0.5 / num_pixels
    else:
        weight = 1.0 / num_pixels
    pow_g = one_minus_pt * one_minus_pt if gamma == 2 else \
        one_minus_pt.pow(gamma)
    focal = (ce * pow_g).mul_(weight).sum(1)
    sums = ((p * t).sum(1), p.sum(1))
    if not need_grad:
        return focal, sums, None
    g = pow_g.mul_(p - t)
    del pow_g
    dp = p.mul_(1 - p)  # sigmoid'(x), in the place of p
    term = (one_minus_pt if gamma == 2 else
            one_minus_pt.pow_(gamma - 1)).mul_(s).mul_(dp).mul_(ce)
    del one_minus_pt, ce
    g.sub_(term, alpha=gamma).mul_(weight)
    return focal, sums, (g, dp, t * dp)


class _UpsampledFocalDice(torch.autograd.Function):
    """Per-mask focal and dice losses of bilinearly upsampled logits.

    The gradients with respect to the stride-4 logits are computed in the
    forward pass, chunk by chunk, while the full-size values are at hand:
    they are per mask, and each loss is a per-mask sum, so the backward
    only scales them by the incoming per-mask gradients. Nothing full-size
    is kept or recomputed."""

    @staticmethod
    def forward(ctx, logits, masks, index, alpha, gamma):
        size, small = masks.shape[-2:], logits.shape[-2:]
        chunk = max(1, CHUNK_ELEMENTS // (size[0] * size[1]))
        need_grad = ctx.needs_input_grad[0]
        parts = []
        for i in range(0, len(logits), chunk):
            x = _upsample(logits[i:i + chunk], size).flatten(1)
            t = masks[index[i:i + chunk]].flatten(1).to(logits.dtype)
            focal, sums, grads = _chunk_losses(x, t, alpha, gamma,
                                               need_grad)
            small_grads = None if grads is None else [
                _upsample_backward(g, size, small) for g in grads]
            parts.append((focal, *sums, t.sum(1), small_grads))
        cat = torch.cat if len(parts) > 1 else (lambda xs: xs[0])
        focal, p_t, p_sum, t_sum = (cat([part[k] for part in parts])
                                    for k in range(4))
        a = p_t.mul_(2).add_(1)
        b = p_sum.add_(t_sum).add_(1)
        dice = 1 - a / b
        if need_grad:
            g_focal, dp, t_dp = (cat([part[4][k] for part in parts])
                                 for k in range(3))
            # d dice / dx = (a / b^2) sigmoid'(x) - (2 / b) t sigmoid'(x)
            g_dice = dp.mul_((a / (b * b))[:, None, None]).sub_(
                t_dp.mul_((2 / b)[:, None, None]))
            ctx.save_for_backward(g_focal, g_dice)
        return focal, dice

    @staticmethod
    def backward(ctx, grad_focal, grad_dice):
        g_focal, g_dice = ctx.saved_tensors
        grad = torch.addcmul(g_focal * grad_focal[:, None, None], g_dice,
                             grad_dice[:, None, None])
        return grad, None, None, None, None


def upsampled_focal_dice(logits: torch.Tensor, masks: torch.Tensor,
                         alpha: float = 0.25, gamma: float = 2.0,
                         index: Optional[torch.Tensor] = None
                         ) -> Tuple[torch.Tensor, torch.Tensor]:
    """Focal and dice losses of the matched masks at full resolution.

    logits (N, h, w) at stride 4, targets ``masks[index]`` (N, H, W) (all of
    ``masks`` when ``index`` is None; any dtype, values in [0, 1]) ->
    per-mask (N,) focal losses (mean over pixels) and dice losses of
    ``interpolate(logits, (H, W), bilinear, align_corners=False)`` against
    the targets: the official numbers. The targets are gathered and the
    logits upsampled chunk by chunk, and the gradients come out of the same
    pass (closed form), so no (N, H, W) tensor is ever whole and nothing
    full-size outlives the call.
    """
    if index is None:
        index = torch.arange(len(masks), device=masks.device)
    return _UpsampledFocalDice.apply(logits, masks, index, alpha, gamma)
