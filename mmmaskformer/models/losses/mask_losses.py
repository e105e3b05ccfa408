"""Per-mask sigmoid focal and dice losses of the matched predictions, in the
criterion's two modes.

* :func:`upsampled_focal_dice` (exact, the official numbers): at the
  targets' full resolution, from bilinearly upsampled stride-4 logits,
  without keeping full-size intermediates (see
  :mod:`.upsampled_focal_dice_function`);
* :func:`point_sampled_focal_dice` (opt-in, Mask2Former's memory-efficient
  mode): on importance-sampled points.

Both take the matched logits (N, h, w), the targets of the batch (M, H, W)
and which target each prediction is matched to, and return per-mask (N,)
focal and dice losses; the criterion sums them per layer.
"""
from typing import Optional, Tuple

import torch

from .functional import dice_loss, sigmoid_focal_loss
from .point_sampling import point_sample, uncertain_point_coords
from .upsampled_focal_dice_function import UpsampledFocalDiceFunction

# masks per chunk so that one chunk's full-size temporaries stay near
# 2**23 floats (32 MiB each, about ten alive at once) whatever the image size
DEFAULT_CHUNK_ELEMENTS = 1 << 23


def upsampled_focal_dice(logits: torch.Tensor, masks: torch.Tensor,
                         alpha: float = 0.25, gamma: float = 2.0,
                         index: Optional[torch.Tensor] = None,
                         chunk_elements: int = DEFAULT_CHUNK_ELEMENTS
                         ) -> Tuple[torch.Tensor, torch.Tensor]:
    """Focal and dice losses of the matched masks at full resolution.

    logits (N, h, w) at stride 4, targets ``masks[index]`` (N, H, W) (all of
    ``masks`` when ``index`` is None; any dtype, values in [0, 1]) ->
    per-mask (N,) focal losses (mean over pixels) and dice losses of
    ``interpolate(logits, (H, W), bilinear, align_corners=False)`` against
    the targets: the official numbers. The targets are gathered and the
    logits upsampled ``max(1, chunk_elements // (H * W))`` masks at a time,
    and the gradients come out of the same pass (closed form), so no
    (N, H, W) tensor is ever whole and nothing full-size outlives the call.
    The chunk size changes the peak memory, not the values.
    """
    if index is None:
        index = torch.arange(len(masks), device=masks.device)
    return UpsampledFocalDiceFunction.apply(logits, masks, index, alpha,
                                            gamma, chunk_elements)


def point_sampled_focal_dice(logits: torch.Tensor, masks: torch.Tensor,
                             index: torch.Tensor, num_points: int,
                             oversample_ratio: float = 3.0,
                             importance_sample_ratio: float = 0.75,
                             alpha: float = 0.25, gamma: float = 2.0
                             ) -> Tuple[torch.Tensor, torch.Tensor]:
    """Focal and dice losses on ``num_points`` points per matched mask.

    The points are chosen by importance sampling on the stride-4 logits
    (``oversample_ratio`` x points drawn, the ``importance_sample_ratio``
    most uncertain kept, the rest uniform, from torch's global generator);
    the logits are sampled there bilinearly, the targets ``masks[index]`` at
    full resolution. -> per-mask (N,) focal and dice losses.
    """
    with torch.no_grad():
        coords = uncertain_point_coords(logits.detach(), num_points,
                                        oversample_ratio,
                                        importance_sample_ratio)  # (N, P, 2)
        targets = point_sample(masks[index], coords)  # (N, P)
    logits = point_sample(logits, coords)  # (N, P)
    return (sigmoid_focal_loss(logits, targets, alpha, gamma),
            dice_loss(logits, targets))
