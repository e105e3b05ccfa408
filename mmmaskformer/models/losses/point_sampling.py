"""Point sampling of masks (Mask2Former's memory-efficient matching and loss,
opt-in for MaskFormer): pure functions.

Shapes: N masks, P points, coordinates in [0, 1] as (x, y).
"""
from typing import Callable

import torch
import torch.nn.functional as F


def point_sample(masks: torch.Tensor, coords: torch.Tensor) -> torch.Tensor:
    """Bilinear samples of ``masks`` at ``coords``.

    masks (N, H, W), coords (N, P, 2) or (P, 2) shared -> (N, P).
    ``grid_sample`` with ``align_corners=False`` (detectron2's point_sample).
    """
    if coords.dim() == 2:
        coords = coords[None].expand(masks.shape[0], -1, -1)
    grid = (2.0 * coords[:, :, None, :]).sub_(1.0)  # (N, P, 1, 2), one copy
    out = F.grid_sample(masks[:, None].float(), grid, align_corners=False)
    return out[:, 0, :, 0]  # (N, P)


def uncertainty(logits: torch.Tensor) -> torch.Tensor:
    """Mask2Former's uncertainty: ``-|logit|`` (highest at the boundary)."""
    return -logits.abs()


def uncertain_point_coords(logits: torch.Tensor, num_points: int,
                           oversample_ratio: float = 3.0,
                           importance_sample_ratio: float = 0.75,
                           uncertainty_fn: Callable = uncertainty,
                           generator=None) -> torch.Tensor:
    """Importance sampling (PointRend / Mask2Former): draw
    ``num_points * oversample_ratio`` uniform points, keep the
    ``importance_sample_ratio * num_points`` most uncertain ones and add
    uniform points for the rest.

    logits (N, h, w) -> coords (N, num_points, 2).
    """
    n = logits.shape[0]
    num_sampled = int(num_points * oversample_ratio)
    coords = torch.rand(n, num_sampled, 2, device=logits.device,
                        generator=generator)
    scores = uncertainty_fn(point_sample(logits, coords))  # (N, S)
    num_uncertain = int(importance_sample_ratio * num_points)
    idx = scores.topk(num_uncertain, dim=1)[1]  # (N, U)
    chosen = coords.gather(1, idx[..., None].expand(-1, -1, 2))
    num_random = num_points - num_uncertain
    if num_random > 0:
        chosen = torch.cat([
            chosen,
            torch.rand(n, num_random, 2, device=logits.device,
                       generator=generator)
        ], 1)
    return chosen
