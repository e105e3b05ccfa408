"""Multi-scale deformable attention (Deformable DETR) and its encoder, as the
official Mask2Former ``MSDeformAttn`` / ``MSDeformAttnTransformerEncoderLayer``.

Shapes (batch-first, the official layout)::

    N  batch          S  tokens of all levels (sum of H_l * W_l, coarsest level first)
    C  model width    M  heads, d = C / M per head
    L  levels         P  sampling points per head and level

Plain building blocks: no registry, no config, no OpenMMLab imports. The
sampling kernel is a parameter (``kernel``): the pure-PyTorch
:func:`ms_deform_attn_core` by default; a registered module may pass a
compiled one with the same signature. Parameter names follow the official
module (``sampling_offsets``, ``attention_weights``, ``value_proj``,
``output_proj``; ``norm1``, ``linear1``, ``linear2``, ``norm2``), so
checkpoints convert one to one.
"""
import copy
import math
from typing import Callable, NamedTuple, Optional

import torch
import torch.nn.functional as F
from torch import nn

from .transformer import Dropout

# kernel(value (N, S, M, d), spatial_shapes (L, 2) int64 (h, w),
#        level_start_index (L,) int64, sampling_locations (N, Sq, M, L, P, 2),
#        attention_weights (N, Sq, M, L, P)) -> (N, Sq, C)
DeformAttnKernel = Callable[..., torch.Tensor]


def ms_deform_attn_core(value: torch.Tensor, spatial_shapes: torch.Tensor,
                        level_start_index: torch.Tensor,
                        sampling_locations: torch.Tensor,
                        attention_weights: torch.Tensor) -> torch.Tensor:
    """Bilinear samples of every level, weighted and summed per head.

    ``out[n, q, h] = sum_{l, p} A[n, q, h, l, p] * V_l(loc[n, q, h, l, p])``
    with ``V_l`` sampled by ``grid_sample(2 * loc - 1, align_corners=False,
    padding_mode='zeros')``: locations are in [0, 1] of the level's extent
    (pixel centres at (j + 0.5) / W), outside points read zeros. The formula
    of the official ``ms_deform_attn_core_pytorch`` fallback.
    """
    n, _, m, d = value.shape
    _, num_queries, _, num_levels, num_points, _ = sampling_locations.shape
    sizes = [int(h) * int(w) for h, w in spatial_shapes.tolist()]
    values = value.split(sizes, dim=1)
    grids = 2 * sampling_locations - 1
    sampled = []
    for lvl, (h, w) in enumerate(spatial_shapes.tolist()):
        v = values[lvl].flatten(2).transpose(1, 2).reshape(n * m, d, h, w)
        g = grids[:, :, :, lvl].transpose(1, 2).flatten(0, 1)  # (N*M, Sq, P, 2)
        sampled.append(F.grid_sample(v, g, mode='bilinear',
                                     padding_mode='zeros',
                                     align_corners=False))  # (N*M, d, Sq, P)
    weights = attention_weights.transpose(1, 2).reshape(
        n * m, 1, num_queries, num_levels * num_points)
    out = (torch.stack(sampled, dim=-2).flatten(-2) * weights).sum(-1)
    return out.view(n, m * d, num_queries).transpose(1, 2).contiguous()  # (N, Sq, C)


def level_start_index_of(spatial_shapes: torch.Tensor) -> torch.Tensor:
    """(L, 2) (h, w) -> (L,) offset of each level in the flattened tokens."""
    sizes = spatial_shapes.prod(1)
    return torch.cat((sizes.new_zeros(1), sizes.cumsum(0)[:-1]))


def reference_points_of(spatial_shapes: torch.Tensor, batch_size: int,
                        device=None) -> torch.Tensor:
    """Pixel centre of every token in its own level, normalised to [0, 1].

    -> (N, S, L, 2) in (x, y) order: ``((j + 0.5) / W_l, (i + 0.5) / H_l)``
    for token (i, j) of level l, repeated for the L levels it samples
    (official ``get_reference_points`` with valid ratios 1: no padding mask).
    """
    points = []
    for h, w in spatial_shapes.tolist():
        ref_y, ref_x = torch.meshgrid(
            torch.linspace(0.5, h - 0.5, h, dtype=torch.float32,
                           device=device),
            torch.linspace(0.5, w - 0.5, w, dtype=torch.float32,
                           device=device), indexing='ij')
        points.append(torch.stack((ref_x.reshape(-1) / w,
                                   ref_y.reshape(-1) / h), -1))  # (h*w, 2)
    ref = torch.cat(points, 0)  # (S, 2)
    num_levels = len(spatial_shapes)
    return ref[None, :, None].expand(batch_size, -1, num_levels, -1)


class DeformSampling(NamedTuple):
    locations: torch.Tensor  # (N, Sq, M, L, P, 2), (x, y) in level units
    weights: torch.Tensor  # (N, Sq, M, L, P), softmax over (L, P)


class MSDeformAttn(nn.Module):
    """Multi-scale deformable attention (official ``MSDeformAttn``).

    Each query predicts, per head, P offsets and weights on each of the L
    levels around its reference point; offsets are in pixels of the
    *sampled* level (divided by that level's (W, H)); the weights are a
    softmax over the L*P samples of the head.

    Init (official ``_reset_parameters``): zero offset weights and a bias
    putting point p of head h at ``(p + 1) * dir_h`` (a square ring of M
    directions, the same for every level), uniform attention (zero weights
    and bias), xavier-uniform value and output projections with zero bias.
    """

    def __init__(self, d_model: int = 256, n_levels: int = 4,
                 n_heads: int = 8, n_points: int = 4,
                 kernel: Optional[DeformAttnKernel] = None) -> None:
        super().__init__()
        if d_model % n_heads != 0:
            raise ValueError(f'd_model ({d_model}) must be divisible by '
                             f'n_heads ({n_heads})')
        self.d_model, self.n_levels = d_model, n_levels
        self.n_heads, self.n_points = n_heads, n_points
        self.kernel = kernel or ms_deform_attn_core
        self.sampling_offsets = nn.Linear(d_model,
                                          n_heads * n_levels * n_points * 2)
        self.attention_weights = nn.Linear(d_model,
                                           n_heads * n_levels * n_points)
        self.value_proj = nn.Linear(d_model, d_model)
        self.output_proj = nn.Linear(d_model, d_model)
        self.reset_parameters()

    def reset_parameters(self) -> None:
        nn.init.constant_(self.sampling_offsets.weight, 0.)
        thetas = torch.arange(self.n_heads, dtype=torch.float32) * (
            2.0 * math.pi / self.n_heads)
        grid = torch.stack([thetas.cos(), thetas.sin()], -1)  # (M, 2)
        grid = (grid / grid.abs().max(-1, keepdim=True)[0]).view(
            self.n_heads, 1, 1, 2).repeat(1, self.n_levels, self.n_points, 1)
        grid = grid * torch.arange(1, self.n_points + 1,
                                   dtype=torch.float32).view(1, 1, -1, 1)
        with torch.no_grad():
            self.sampling_offsets.bias.copy_(grid.view(-1))
        nn.init.constant_(self.attention_weights.weight, 0.)
        nn.init.constant_(self.attention_weights.bias, 0.)
        nn.init.xavier_uniform_(self.value_proj.weight)
        nn.init.constant_(self.value_proj.bias, 0.)
        nn.init.xavier_uniform_(self.output_proj.weight)
        nn.init.constant_(self.output_proj.bias, 0.)

    def sampling(self, query: torch.Tensor, reference_points: torch.Tensor,
                 spatial_shapes: torch.Tensor) -> DeformSampling:
        """Where and how much each query samples.

        query (N, Sq, C), reference_points (N, Sq, L, 2) in [0, 1] (x, y),
        spatial_shapes (L, 2) (h, w).
        """
        n, num_queries, _ = query.shape
        shape = (n, num_queries, self.n_heads, self.n_levels, self.n_points)
        offsets = self.sampling_offsets(query).view(*shape, 2)
        weights = self.attention_weights(query).view(
            n, num_queries, self.n_heads, self.n_levels * self.n_points)
        weights = F.softmax(weights, -1).view(*shape)
        # offsets are in pixels of the sampled level: divide by its (W, H)
        normalizer = torch.stack(
            [spatial_shapes[..., 1], spatial_shapes[..., 0]], -1)  # (L, 2)
        locations = reference_points[:, :, None, :, None, :] + \
            offsets / normalizer[None, None, None, :, None, :]
        return DeformSampling(locations, weights)

    def forward(self, query: torch.Tensor, reference_points: torch.Tensor,
                value: torch.Tensor, spatial_shapes: torch.Tensor,
                level_start_index: torch.Tensor) -> torch.Tensor:
        """query (N, Sq, C) (with positions), value (N, S, C) (without)
        -> (N, Sq, C)."""
        n, num_tokens, _ = value.shape
        v = self.value_proj(value).view(
            n, num_tokens, self.n_heads, self.d_model // self.n_heads)
        locations, weights = self.sampling(query, reference_points,
                                           spatial_shapes)
        out = self.kernel(v, spatial_shapes, level_start_index, locations,
                          weights)
        return self.output_proj(out)


class MSDeformAttnEncoderLayer(nn.Module):
    """Deformable self-attention + FFN, post-norm (official
    ``MSDeformAttnTransformerEncoderLayer``).

    ``src = norm1(src + attn(src + pos, ref, src))``;
    ``src = norm2(src + linear2(relu(linear1(src))))``.
    """

    def __init__(self, d_model: int = 256, dim_feedforward: int = 1024,
                 dropout: float = 0.0, n_levels: int = 4, n_heads: int = 8,
                 n_points: int = 4,
                 kernel: Optional[DeformAttnKernel] = None) -> None:
        super().__init__()
        self.self_attn = MSDeformAttn(d_model, n_levels, n_heads, n_points,
                                      kernel)
        self.dropout1 = Dropout(dropout)
        self.norm1 = nn.LayerNorm(d_model)
        self.linear1 = nn.Linear(d_model, dim_feedforward)
        self.dropout2 = Dropout(dropout)
        self.linear2 = nn.Linear(dim_feedforward, d_model)
        self.dropout3 = Dropout(dropout)
        self.norm2 = nn.LayerNorm(d_model)

    def forward(self, src: torch.Tensor, pos: torch.Tensor,
                reference_points: torch.Tensor, spatial_shapes: torch.Tensor,
                level_start_index: torch.Tensor) -> torch.Tensor:
        """src, pos (N, S, C) -> (N, S, C)."""
        attn = self.self_attn(src + pos, reference_points, src,
                              spatial_shapes, level_start_index)
        src = self.norm1(src + self.dropout1(attn))
        ffn = self.linear2(self.dropout2(F.relu(self.linear1(src))))
        return self.norm2(src + self.dropout3(ffn))


class MSDeformAttnEncoder(nn.Module):
    """A stack of deformable encoder layers over flattened multi-scale tokens.

    Init (official ``MSDeformAttnTransformerEncoderOnly._reset_parameters``):
    xavier-uniform on every parameter with more than one dimension, then the
    deformable attention's own reset.
    """

    def __init__(self, num_layers: int = 6, d_model: int = 256,
                 dim_feedforward: int = 1024, dropout: float = 0.0,
                 n_levels: int = 4, n_heads: int = 8, n_points: int = 4,
                 kernel: Optional[DeformAttnKernel] = None) -> None:
        super().__init__()
        layer = MSDeformAttnEncoderLayer(d_model, dim_feedforward, dropout,
                                         n_levels, n_heads, n_points, kernel)
        self.layers = nn.ModuleList(
            copy.deepcopy(layer) for _ in range(num_layers))
        for p in self.parameters():
            if p.dim() > 1:
                nn.init.xavier_uniform_(p)
        for m in self.modules():
            if isinstance(m, MSDeformAttn):
                m.reset_parameters()

    def forward(self, src: torch.Tensor, pos: torch.Tensor,
                reference_points: torch.Tensor, spatial_shapes: torch.Tensor,
                level_start_index: torch.Tensor) -> torch.Tensor:
        """src, pos (N, S, C) (levels concatenated in ``spatial_shapes``
        order) -> (N, S, C); the level geometry comes from the caller
        (:func:`reference_points_of`, :func:`level_start_index_of`), which
        can make it once per input size."""
        for layer in self.layers:
            src = layer(src, pos, reference_points, spatial_shapes,
                        level_start_index)
        return src
