"""The autograd Function behind :func:`~.mask_losses.upsampled_focal_dice`.

The official criterion upsamples the matched stride-4 logits to the targets'
full resolution and lets autograd keep every full-size intermediate for the
backward pass: at 512 x 512 with a few hundred matched masks per step that
is most of the training memory. Both losses are sums of per-mask terms, so
their gradients with respect to the stride-4 logits can be computed in the
forward pass, chunk by chunk, while the full-size values are at hand; the
backward then only scales each mask's gradient by its incoming gradient.
Nothing full-size is kept or recomputed, and the values are the official
ones.
"""
from typing import List, NamedTuple, Optional, Sequence

import torch
import torch.nn.functional as F


class ChunkLosses(NamedTuple):
    """Per-mask results of one chunk of n masks."""
    focal: torch.Tensor  # (n,) focal loss, mean over pixels
    sum_prob_target: torch.Tensor  # (n,) sum of sigmoid * target
    sum_prob: torch.Tensor  # (n,) sum of sigmoid
    # at the logits' resolution, (n, 1, h, w) each, or None without grad:
    grad_focal: Optional[torch.Tensor]  # d focal / d logits
    grad_prob: Optional[torch.Tensor]  # d sum(sigmoid) / d logits
    grad_prob_target: Optional[torch.Tensor]  # d sum(target sigmoid) / d ...


def chunk_focal_dice(upsampled: torch.Tensor, targets: torch.Tensor,
                     signs: torch.Tensor, pixel_weights,
                     gamma: float,
                     logits_size: Optional[Sequence[int]]) -> ChunkLosses:
    """Focal loss, dice sums and (optionally) their gradients of one chunk.

    ``upsampled`` logits and ``targets`` (n, 1, H, W) (targets anywhere in
    [0, 1]), ``signs = 2 * targets - 1``, ``pixel_weights = alpha_t / P``
    (or the scalar ``1 / P`` without alpha). With ``logits_size`` (the
    stride-4 logits' (h, w)) the gradients are brought down to it; the
    dice gradient is linear in the two sums' gradients, so those are what
    is returned.

    With ``1 - p_t = t - p s`` and ``alpha_t = 1/2 + (alpha - 1/2) s``:
    ``d/dx [alpha_t (1-p_t)^g ce] = alpha_t [(1-p_t)^g (p - t)
    - g (1-p_t)^(g-1) s p (1 - p) ce]``; gamma 0 (BCE) takes
    :func:`bce_chunk` (``signs`` may then be None). Few ops, in place, each full-size
    gradient brought down to (h, w) and dropped as soon as it exists: on a
    GPU every op is a kernel launch, and the chunk's temporaries set the
    peak memory.
    """
    dims = (1, 2, 3)
    prob = torch.sigmoid(upsampled)
    ce = F.binary_cross_entropy_with_logits(upsampled, targets,
                                            reduction='none')
    full_size = upsampled.shape[-2:]
    del upsampled

    def downsample_grad(grad):  # the adjoint of the bilinear upsampling
        return torch.ops.aten.upsample_bilinear2d_backward(
            grad, list(full_size), [len(grad), 1, *logits_size], False, None,
            None)

    if gamma == 0:  # (alpha-weighted) BCE: d/dx = alpha_t (p - t)
        return bce_chunk(prob, ce, targets, pixel_weights,
                         downsample_grad if logits_size else None)
    one_minus_pt = torch.addcmul(targets, prob, signs, value=-1)
    modulation = one_minus_pt * one_minus_pt if gamma == 2 else \
        one_minus_pt.pow(gamma)  # (1 - p_t)^gamma
    focal = (ce * modulation).mul_(pixel_weights).sum(dims)
    sum_prob_target, sum_prob = (prob * targets).sum(dims), prob.sum(dims)
    if logits_size is None:
        return ChunkLosses(focal, sum_prob_target, sum_prob, None, None, None)
    grad = modulation.mul_(prob - targets)
    del modulation
    dprob = prob.mul_(1 - prob)  # sigmoid'(x), in the place of prob
    term = (one_minus_pt if gamma == 2 else
            one_minus_pt.pow_(gamma - 1)).mul_(signs).mul_(dprob).mul_(ce)
    del one_minus_pt, ce
    grad_focal = downsample_grad(
        grad.sub_(term, alpha=gamma).mul_(pixel_weights))
    del grad, term
    grad_prob = downsample_grad(dprob)
    return ChunkLosses(focal, sum_prob_target, sum_prob, grad_focal,
                       grad_prob, downsample_grad(dprob.mul_(targets)))


def bce_chunk(prob: torch.Tensor, ce: torch.Tensor, targets: torch.Tensor,
              pixel_weights, downsample_grad) -> ChunkLosses:
    """:func:`chunk_focal_dice` for gamma 0 (no modulation): the loss is
    ``alpha_t ce`` (plain BCE without alpha), its gradient ``alpha_t (p -
    t)``; ``downsample_grad`` is None without gradients. The (1 - p_t)^g
    terms are never formed (their g - 1 power would be 0^-1 at saturated
    pixels)."""
    dims = (1, 2, 3)
    focal = ce.mul_(pixel_weights).sum(dims)
    del ce
    sum_prob_target, sum_prob = (prob * targets).sum(dims), prob.sum(dims)
    if downsample_grad is None:
        return ChunkLosses(focal, sum_prob_target, sum_prob, None, None, None)
    grad_focal = downsample_grad((prob - targets).mul_(pixel_weights))
    dprob = prob.mul_(1 - prob)  # sigmoid'(x), in the place of prob
    grad_prob = downsample_grad(dprob)
    return ChunkLosses(focal, sum_prob_target, sum_prob, grad_focal,
                       grad_prob, downsample_grad(dprob.mul_(targets)))


def _cat(parts: List[torch.Tensor]) -> torch.Tensor:
    return parts[0] if len(parts) == 1 else torch.cat(parts)


class UpsampledFocalDiceFunction(torch.autograd.Function):
    """Per-mask focal and dice losses of bilinearly upsampled logits, with
    closed-form gradients computed in the forward pass (module docstring).

    ``apply(logits (N, h, w), masks (M, H, W), index (N,), alpha, gamma,
    chunk_elements)`` -> focal (N,), dice (N,) against ``masks[index]``;
    chunks hold ``max(1, chunk_elements // (H * W))`` masks.
    """

    @staticmethod
    def forward(ctx, logits, masks, index, alpha, gamma, chunk_elements):
        full_size, logits_size = masks.shape[-2:], logits.shape[-2:]
        num_pixels = full_size[0] * full_size[1]
        masks_per_chunk = max(1, chunk_elements // num_pixels)
        # per target mask, once (a target serves several predictions):
        # targets, signs = 2t - 1, and alpha_t / P, all (M, 1, H, W)
        targets = masks[:, None].to(logits.dtype)
        # plain BCE (gamma 0, no alpha) needs no signs
        signs = targets * 2 - 1 if alpha >= 0 or gamma != 0 else None
        if alpha >= 0:
            pixel_weights = signs * ((alpha - 0.5) / num_pixels) + \
                0.5 / num_pixels
        with_grad = ctx.needs_input_grad[0]
        chunks = []
        for chunk_logits, chunk_index in zip(
                logits[:, None].split(masks_per_chunk),
                index.split(masks_per_chunk)):
            chunks.append(chunk_focal_dice(
                F.interpolate(chunk_logits, size=full_size, mode='bilinear',
                              align_corners=False),
                targets[chunk_index],
                None if signs is None else signs[chunk_index],
                pixel_weights[chunk_index] if alpha >= 0 else
                1.0 / num_pixels, gamma,
                logits_size if with_grad else None))
        focal = _cat([c.focal for c in chunks])
        # dice = 1 - a / b, a = 2 sum(p t) + 1, b = sum(p) + sum(t) + 1
        a = _cat([c.sum_prob_target for c in chunks]).mul_(2).add_(1)
        b = _cat([c.sum_prob for c in chunks]).add_(
            targets.sum((1, 2, 3))[index]).add_(1)
        dice = 1 - a / b
        if with_grad:
            grad_focal = _cat([c.grad_focal for c in chunks])
            grad_prob = _cat([c.grad_prob for c in chunks])
            grad_prob_target = _cat([c.grad_prob_target for c in chunks])
            # d dice / dx = (a / b^2) sigmoid'(x) - (2 / b) t sigmoid'(x)
            grad_dice = grad_prob.mul_((a / (b * b)).view(-1, 1, 1, 1)).sub_(
                grad_prob_target.mul_((2 / b).view(-1, 1, 1, 1)))
            ctx.save_for_backward(grad_focal, grad_dice)
        return focal, dice

    @staticmethod
    def backward(ctx, grad_focal_out, grad_dice_out):
        grad_focal, grad_dice = ctx.saved_tensors
        grad = torch.addcmul(grad_focal * grad_focal_out.view(-1, 1, 1, 1),
                             grad_dice, grad_dice_out.view(-1, 1, 1, 1))
        return (grad.view(grad.shape[0], *grad.shape[2:]), None, None, None,
                None, None)
