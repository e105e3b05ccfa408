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


def _chunk_losses(x, t, s, weight, gamma: float, small):
    """One chunk: upsampled logits x and targets t (n, 1, H, W) (any t in
    [0, 1]), s = 2t - 1, weight = alpha_t / P (or 1 / P) -> per-mask focal
    losses, the two dice sums of the prediction and, when ``small`` (the
    logits' (h, w)) is given, the per-mask gradients at the logits'
    resolution of the focal loss, of sum(sigmoid) and of sum(t sigmoid) (the
    dice gradient is linear in the last two).

    1 - p_t = t - p s and alpha_t = 1/2 + (alpha - 1/2) s, so
    d/dx [alpha_t (1-p_t)^g ce] = alpha_t [(1-p_t)^g (p - t)
    - g (1-p_t)^(g-1) s p (1 - p) ce]. Few ops, in place, each full-size
    gradient brought down to (h, w) and dropped as soon as it exists: on a
    GPU every op is a kernel launch, and the chunk's temporaries set the
    peak memory.
    """
    dims = (1, 2, 3)
    p = torch.sigmoid(x)
    ce = F.binary_cross_entropy_with_logits(x, t, reduction='none')
    size = x.shape[-2:]
    del x
    one_minus_pt = torch.addcmul(t, p, s, value=-1)
    pow_g = one_minus_pt * one_minus_pt if gamma == 2 else \
        one_minus_pt.pow(gamma)
    focal = (ce * pow_g).mul_(weight).sum(dims)
    sums = ((p * t).sum(dims), p.sum(dims))
    if small is None:
        return focal, sums, None

    def down(g):  # the adjoint of the bilinear upsampling
        return torch.ops.aten.upsample_bilinear2d_backward(
            g, list(size), [len(g), 1, *small], False, None, None)

    g = pow_g.mul_(p - t)
    del pow_g
    dp = p.mul_(1 - p)  # sigmoid'(x), in the place of p
    term = (one_minus_pt if gamma == 2 else
            one_minus_pt.pow_(gamma - 1)).mul_(s).mul_(dp).mul_(ce)
    del one_minus_pt, ce
    g_focal = down(g.sub_(term, alpha=gamma).mul_(weight))
    del g, term
    g_dp = down(dp)
    return focal, sums, (g_focal, g_dp, down(dp.mul_(t)))


def _cat(parts):
    return parts[0] if len(parts) == 1 else torch.cat(parts)


class _UpsampledFocalDice(torch.autograd.Function):
    """Per-mask focal and dice losses of bilinearly upsampled logits.

    The gradients with respect to the stride-4 logits are computed in the
    forward pass, chunk by chunk, while the full-size values are at hand:
    each loss is a sum of per-mask terms, so the backward only scales each
    mask's gradient by its incoming gradient. Nothing full-size is kept or
    recomputed."""

    @staticmethod
    def forward(ctx, logits, masks, index, alpha, gamma):
        size, small = masks.shape[-2:], logits.shape[-2:]
        num_pixels = size[0] * size[1]
        chunk = max(1, CHUNK_ELEMENTS // num_pixels)
        # per target mask, once (a target serves several predictions):
        # t, s = 2t - 1, and alpha_t / P, all (M, 1, H, W)
        t_all = masks[:, None].to(logits.dtype)
        s_all = t_all * 2 - 1
        if alpha >= 0:
            w_all = s_all * ((alpha - 0.5) / num_pixels) + 0.5 / num_pixels
        parts = []
        for x, idx in zip(logits[:, None].split(chunk), index.split(chunk)):
            parts.append(_chunk_losses(
                F.interpolate(x, size=size, mode='bilinear',
                              align_corners=False),
                t_all[idx], s_all[idx],
                w_all[idx] if alpha >= 0 else 1.0 / num_pixels, gamma,
                small if ctx.needs_input_grad[0] else None))
        focal = _cat([f for f, _, _ in parts])
        p_t = _cat([sums[0] for _, sums, _ in parts])
        p_sum = _cat([sums[1] for _, sums, _ in parts])
        a = p_t.mul_(2).add_(1)
        b = p_sum.add_(t_all.sum((1, 2, 3))[index]).add_(1)
        dice = 1 - a / b
        if ctx.needs_input_grad[0]:
            g_focal, g_p, g_tp = (_cat([grads[k] for _, _, grads in parts])
                                  for k in range(3))
            # d dice / dx = (a / b^2) sigmoid'(x) - (2 / b) t sigmoid'(x)
            g_dice = g_p.mul_((a / (b * b)).view(-1, 1, 1, 1)).sub_(
                g_tp.mul_((2 / b).view(-1, 1, 1, 1)))
            ctx.save_for_backward(g_focal, g_dice)
        return focal, dice

    @staticmethod
    def backward(ctx, grad_focal, grad_dice):
        g_focal, g_dice = ctx.saved_tensors
        grad = torch.addcmul(g_focal * grad_focal.view(-1, 1, 1, 1), g_dice,
                             grad_dice.view(-1, 1, 1, 1))
        return grad.view(grad.shape[0], *grad.shape[2:]), None, None, None, \
            None


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
