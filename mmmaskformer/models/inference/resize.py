"""Resizing mask logits back to image space (detectron2 ``sem_seg_postprocess``)."""
from typing import Sequence

import torch
import torch.nn.functional as F


def crop_and_resize(maps: torch.Tensor, img_size: Sequence[int],
                    output_size: Sequence[int]) -> torch.Tensor:
    """Crop the batch padding (``[..., :h, :w]``), then resize bilinearly
    (``align_corners=False``) to ``output_size``.

    maps (C, H_pad, W_pad) -> (C, out_h, out_w).
    """
    maps = maps[:, :img_size[0], :img_size[1]]
    if tuple(maps.shape[-2:]) == tuple(output_size):
        return maps
    return F.interpolate(maps[None], size=tuple(output_size), mode='bilinear',
                         align_corners=False)[0]
