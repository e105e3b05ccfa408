"""Sine positional encoding of DETR, as used by the official MaskFormer.

Plain building block: no registry, no config, no OpenMMLab imports.
"""
import math

import torch
from torch import nn


class PositionEmbeddingSine(nn.Module):
    """2-D sine positional encoding (official ``PositionEmbeddingSine``).

    For a feature map of shape (B, C, H, W) returns (B, 2*num_pos_feats, H, W):
    channels ``[0, N)`` encode the row (y), ``[N, 2N)`` the column (x); within
    each half, sin and cos alternate so that channels 2k and 2k+1 share the
    frequency ``temperature ** (2k / N)``. With ``normalize=True`` the
    1-based coordinates are divided by (last + 1e-6) and scaled to 2*pi.
    Only the shape of ``x`` matters (no padding mask is used by MaskFormer).
    """

    def __init__(self, num_pos_feats: int = 128, temperature: float = 10000.,
                 normalize: bool = True, scale: float = 2 * math.pi) -> None:
        super().__init__()
        self.num_pos_feats = num_pos_feats
        self.temperature = temperature
        self.normalize = normalize
        self.scale = scale

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        b, _, h, w = x.shape
        ones = torch.ones((b, h, w), device=x.device, dtype=torch.float32)
        y_embed = ones.cumsum(1)  # (B, H, W), 1..H
        x_embed = ones.cumsum(2)  # (B, H, W), 1..W
        if self.normalize:
            eps = 1e-6
            y_embed = y_embed / (y_embed[:, -1:, :] + eps) * self.scale
            x_embed = x_embed / (x_embed[:, :, -1:] + eps) * self.scale
        dim_t = torch.arange(
            self.num_pos_feats, dtype=torch.float32, device=x.device)
        dim_t = self.temperature**(2 * (dim_t // 2) / self.num_pos_feats)
        pos_x = x_embed[:, :, :, None] / dim_t  # (B, H, W, N)
        pos_y = y_embed[:, :, :, None] / dim_t
        pos_x = torch.stack(
            (pos_x[..., 0::2].sin(), pos_x[..., 1::2].cos()), dim=4).flatten(3)
        pos_y = torch.stack(
            (pos_y[..., 0::2].sin(), pos_y[..., 1::2].cos()), dim=4).flatten(3)
        return torch.cat((pos_y, pos_x), dim=3).permute(0, 3, 1, 2)  # (B, 2N, H, W)
