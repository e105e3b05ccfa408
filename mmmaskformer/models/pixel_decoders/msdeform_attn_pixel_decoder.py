"""Mask2Former's pixel decoder: a deformable-attention encoder over the three
coarsest backbone levels plus FPN levels down to stride 4 (official
``MSDeformAttnPixelDecoder``, ``modeling/pixel_decoder/msdeformattn.py``)."""
import math
from collections import OrderedDict
from typing import List, NamedTuple, Optional, Sequence, Tuple

import torch
import torch.nn.functional as F
from mmcv.ops.multi_scale_deform_attn import MultiScaleDeformableAttnFunction
from mmengine.model import BaseModule
from torch import nn

from mmmaskformer.layers import ConvNormAct, PositionEmbeddingSine, c2_xavier_fill
from mmmaskformer.layers.ms_deform_attn import (
    MSDeformAttnEncoder,
    level_start_index_of,
    reference_points_of,
)
from mmmaskformer.registry import MODELS

# official ``MSDeformAttn.im2col_step`` (CUDA kernel only)
IM2COL_STEP = 128


def _level_samples(value: torch.Tensor, grid: torch.Tensor,
                   weights: torch.Tensor) -> torch.Tensor:
    """One level's weighted samples: value (N*M, d, h, w), grid (N*M, Sq,
    P, 2) in [-1, 1], weights (N*M, 1, Sq, P) -> (N*M, d, Sq)."""
    return (F.grid_sample(value, grid, mode='bilinear', padding_mode='zeros',
                          align_corners=False) * weights).sum(-1)


class LevelSamplesFunction(torch.autograd.Function):
    """:func:`_level_samples` keeping only its inputs for the backward,
    which samples the level again (one ``grid_sample`` more than autograd,
    and none of the (N*M, d, Sq, P) samples kept)."""

    @staticmethod
    def forward(ctx, value, grid, weights):
        ctx.save_for_backward(value, grid, weights)
        return _level_samples(value, grid, weights)

    @staticmethod
    def backward(ctx, grad):  # (N*M, d, Sq)
        value, grid, weights = ctx.saved_tensors
        grad = grad[..., None]
        samples = F.grid_sample(value, grid, mode='bilinear',
                                padding_mode='zeros', align_corners=False)
        grad_weights = (samples * grad).sum(1, keepdim=True)
        del samples
        # bilinear (0), zeros padding (0), align_corners False
        grad_value, grad_grid = torch.ops.aten.grid_sampler_2d_backward(
            grad * weights, value, grid, 0, 0, False,
            [ctx.needs_input_grad[0], ctx.needs_input_grad[1]])
        return grad_value, grad_grid, grad_weights


def deform_attn_by_level(value: torch.Tensor,
                         level_sizes: Sequence[Tuple[int, int]],
                         sampling_locations: torch.Tensor,
                         attention_weights: torch.Tensor) -> torch.Tensor:
    """The official CPU fallback's formula (``ms_deform_attn_core_pytorch``,
    mmcv's ``multi_scale_deformable_attn_pytorch``), summed level by level
    instead of over a stack of every level's samples, each level's samples
    recomputed in the backward instead of kept (under autograd): the
    (N*M, d, Sq, P) samples of every level and layer are most of what the
    pixel decoder would keep for its backward on a CPU.

    value (N, S, M, d), level_sizes [(h_l, w_l)] on the host,
    sampling_locations (N, Sq, M, L, P, 2) in [0, 1], attention_weights
    (N, Sq, M, L, P) -> (N, Sq, M*d).
    """
    n, _, m, d = value.shape
    _, num_queries, _, _, num_points, _ = sampling_locations.shape
    values = value.split([h * w for h, w in level_sizes], dim=1)
    grids = 2 * sampling_locations - 1
    recompute = torch.is_grad_enabled() and any(
        t.requires_grad for t in (value, sampling_locations,
                                  attention_weights))
    out = None
    for lvl, (h, w) in enumerate(level_sizes):
        v = values[lvl].flatten(2).transpose(1, 2).reshape(n * m, d, h, w)
        g = grids[:, :, :, lvl].transpose(1, 2).flatten(0, 1)
        wl = attention_weights[:, :, :, lvl].transpose(1, 2).reshape(
            n * m, 1, num_queries, num_points)
        part = LevelSamplesFunction.apply(v, g, wl) if recompute else \
            _level_samples(v, g, wl)
        out = part if out is None else out + part
    return out.view(n, m * d, num_queries).transpose(1, 2).contiguous()


class DeformAttnKernel:
    """The encoder's sampling kernel: mmcv's compiled op on CUDA (as the
    official CUDA op), :func:`deform_attn_by_level` elsewhere.

    The level sizes of a spatial-shapes tensor that the pixel decoder made
    (:meth:`register`) are read from the host, not from the tensor (a
    ``.tolist()`` per layer is a device-to-host sync); any other tensor is
    read.
    """

    def __init__(self) -> None:
        self._sizes = {}  # id -> (the tensor, its sizes)

    def register(self, spatial_shapes: torch.Tensor,
                 sizes: Sequence[Tuple[int, int]]) -> None:
        self._sizes[id(spatial_shapes)] = (spatial_shapes, list(sizes))

    def clear(self) -> None:
        self._sizes.clear()

    def sizes_of(self, spatial_shapes: torch.Tensor) -> List[Tuple[int, int]]:
        entry = self._sizes.get(id(spatial_shapes))
        if entry is not None and entry[0] is spatial_shapes:
            return entry[1]
        return [(int(h), int(w)) for h, w in spatial_shapes.tolist()]

    def __call__(self, value: torch.Tensor, spatial_shapes: torch.Tensor,
                 level_start_index: torch.Tensor,
                 sampling_locations: torch.Tensor,
                 attention_weights: torch.Tensor) -> torch.Tensor:
        if value.is_cuda:
            return MultiScaleDeformableAttnFunction.apply(
                value, spatial_shapes, level_start_index, sampling_locations,
                attention_weights, IM2COL_STEP)
        return deform_attn_by_level(value, self.sizes_of(spatial_shapes),
                                    sampling_locations, attention_weights)


class LevelGeometry(NamedTuple):
    """What the encoder needs about the level sizes, made once per size."""
    spatial_shapes: torch.Tensor  # (L, 2) int64 (h, w)
    level_start_index: torch.Tensor  # (L,)
    reference_points: torch.Tensor  # (B, S, L, 2)


class MultiScalePixelDecoderOutput(NamedTuple):
    pixel_embed: torch.Tensor  # (B, E, H/4, W/4), official "mask features"
    # what the masked transformer decoder attends to: the first three
    # outputs, coarsest first (strides 32, 16, 8 for the official levels)
    memory: List[torch.Tensor]  # 3 x (B, C, h_l, w_l)


@MODELS.register_module()
class MSDeformAttnPixelDecoder(BaseModule):
    """Multi-scale deformable-attention pixel decoder (named after the paper).

    Shapes: B batch, C ``conv_dim``, E ``mask_dim``, inputs res2..res5 at
    strides 4, 8, 16, 32 (``in_channels`` high resolution first)::

        src_l  = GN(conv1x1(res_l))            l = res5, res4, res3 (coarsest first)
        pos_l  = sine(res_l) + level_embed[l]
        tokens = encoder(cat(src_l), cat(pos_l))          6 deformable layers
        res5', res4', res3' = split(tokens)
        y      = output_conv(lateral_conv(res2) + up_bilinear(res3'))
        pixel_embed = mask_feature(y)                     1x1 conv with bias
        memory = [res5', res4', res3']                    what the decoder reads

    The encoder runs on the ``num_transformer_levels`` coarsest inputs; one
    FPN level is added per stride halving from the finest of them down to
    ``common_stride`` (one, for res2, in every official config). The memory
    is the first three of (encoder outputs, coarsest first, then FPN
    levels), as the official "always use 3 scales".

    Official details kept: the input projections are conv *with bias* +
    GroupNorm(32) whatever ``num_groups`` says; the FPN convs follow
    ``num_groups`` (GN(32) and no bias, or no norm and a bias); the res3'
    upsampling is bilinear (align_corners False); the encoder FFN is 1024
    wide (``MSDeformAttnPixelDecoder.from_config`` hard-codes it, the
    decoder's ``DIM_FEEDFORWARD`` does not reach it); everything runs in
    float32, also under autocast. Init: input projections xavier-uniform
    (bias 0), ``level_embed`` N(0, 1), the encoder as
    :class:`~mmmaskformer.layers.ms_deform_attn.MSDeformAttnEncoder`, the
    FPN and mask convs ``c2_xavier_fill``.

    Args:
        in_channels: channels of the backbone levels, high resolution first.
        feature_strides: their strides.
        conv_dim: width of the encoder and the FPN (official ``CONVS_DIM``).
        mask_dim: width of ``pixel_embed`` (official ``MASK_DIM``).
        num_groups: GroupNorm groups of the FPN convs (``NORM: GN``); 0 or
            None for none (``NORM: ""``).
        num_transformer_levels: how many of the coarsest inputs the encoder
            reads (official ``DEFORMABLE_TRANSFORMER_ENCODER_IN_FEATURES``
            res3..res5: 3).
        num_encoder_layers: official ``TRANSFORMER_ENC_LAYERS``.
        num_heads: official ``MASK_FORMER.NHEADS`` (the
            ``DEFORMABLE_TRANSFORMER_ENCODER_N_HEADS`` key is never read).
        num_points: sampling points per head and level (the constructor
            default 4; ``..._N_POINTS`` is never read either).
        dim_feedforward: encoder FFN width.
        dropout: encoder dropout (official ``MASK_FORMER.DROPOUT``, 0.0 in
            every Mask2Former config).
        common_stride: stride of ``pixel_embed`` (official
            ``COMMON_STRIDE``).
    """

    num_memory_levels = 3  # official maskformer_num_feature_levels

    def __init__(self, in_channels: Sequence[int],
                 feature_strides: Sequence[int] = (4, 8, 16, 32),
                 conv_dim: int = 256, mask_dim: int = 256,
                 num_groups: Optional[int] = 32,
                 num_transformer_levels: int = 3,
                 num_encoder_layers: int = 6, num_heads: int = 8,
                 num_points: int = 4, dim_feedforward: int = 1024,
                 dropout: float = 0.0, common_stride: int = 4,
                 init_cfg=None) -> None:
        super().__init__(init_cfg)
        self.in_channels = list(in_channels)
        self.feature_strides = list(feature_strides)
        if len(self.in_channels) != len(self.feature_strides):
            raise ValueError(f'{len(self.in_channels)} input channels for '
                             f'{len(self.feature_strides)} strides')
        if not 0 < num_transformer_levels <= len(self.in_channels):
            raise ValueError(f'num_transformer_levels='
                             f'{num_transformer_levels} for '
                             f'{len(self.in_channels)} inputs')
        self.conv_dim, self.mask_dim = conv_dim, mask_dim
        self.num_transformer_levels = num_transformer_levels
        first = len(self.in_channels) - num_transformer_levels
        # coarsest first, as the official input_proj and level_embed rows
        self.input_proj = nn.ModuleList(
            nn.Sequential(OrderedDict(
                conv=nn.Conv2d(c, conv_dim, 1),
                norm=nn.GroupNorm(32, conv_dim)))
            for c in self.in_channels[first:][::-1])
        for proj in self.input_proj:
            nn.init.xavier_uniform_(proj.conv.weight, gain=1)
            nn.init.constant_(proj.conv.bias, 0)
        self.level_embed = nn.Parameter(
            torch.empty(num_transformer_levels, conv_dim))
        self.encoder = MSDeformAttnEncoder(
            num_encoder_layers, conv_dim, dim_feedforward, dropout,
            num_transformer_levels, num_heads, num_points,
            kernel=DeformAttnKernel())
        nn.init.normal_(self.level_embed)
        self.pos_embed = PositionEmbeddingSine(conv_dim // 2, normalize=True)
        self._pos_cache = {}  # see level_pos
        self._geometry_cache = {}  # see level_geometry
        self.mask_feature = nn.Conv2d(conv_dim, mask_dim, 1)
        c2_xavier_fill(self.mask_feature)
        # one FPN level per stride halving below the encoder's finest level
        num_fpn = int(math.log2(self.feature_strides[first]) -
                      math.log2(common_stride))
        if num_fpn > first:
            raise ValueError(f'common_stride={common_stride} needs '
                             f'{num_fpn} FPN inputs below the encoder, '
                             f'there are {first}')
        self.num_fpn_levels = num_fpn
        # index i = input i (high resolution first): official adapter_{i+1}
        self.lateral_convs = nn.ModuleList(
            ConvNormAct(c, conv_dim, 1, num_groups, act=False)
            for c in self.in_channels[:num_fpn])
        self.output_convs = nn.ModuleList(
            ConvNormAct(conv_dim, conv_dim, 3, num_groups)
            for _ in range(num_fpn))

    def level_pos(self, x: torch.Tensor) -> torch.Tensor:
        """The sine position embedding of a level x (B, C, h_l, w_l) as
        (B, h_l*w_l, C), without the level embedding. It depends on the
        level's shape only, so it is computed once per (B, h_l, w_l,
        device) and kept (a few entries)."""
        key = (x.shape[0], *x.shape[-2:], x.device,
               torch.is_inference_mode_enabled())
        if key not in self._pos_cache:
            if len(self._pos_cache) >= 12:
                self._pos_cache.clear()
            self._pos_cache[key] = self.pos_embed(x).flatten(2).transpose(
                1, 2)
        return self._pos_cache[key]

    def level_geometry(self, sizes: Tuple[Tuple[int, int], ...],
                       batch_size: int, device) -> LevelGeometry:
        """Spatial shapes, level offsets and reference points of levels of
        these (host) sizes, made once per (sizes, B, device) and kept (a
        few entries); the kernel reads the sizes from the host."""
        key = (sizes, batch_size, device, torch.is_inference_mode_enabled())
        if key not in self._geometry_cache:
            if len(self._geometry_cache) >= 12:
                self._geometry_cache.clear()
                for layer in self.encoder.layers:  # one kernel per layer
                    layer.self_attn.kernel.clear()
            shapes = torch.as_tensor(sizes, dtype=torch.long, device=device)
            self._geometry_cache[key] = LevelGeometry(
                shapes, level_start_index_of(shapes),
                reference_points_of(shapes, batch_size, device))
            for layer in self.encoder.layers:
                layer.self_attn.kernel.register(shapes, sizes)
        return self._geometry_cache[key]

    def encode(self, feats: Sequence[torch.Tensor]) -> List[torch.Tensor]:
        """The encoder outputs, coarsest first: [(B, C, h_l, w_l)]
        (the level geometry made once per input size and kept)."""
        levels = list(feats[len(feats) - self.num_transformer_levels:])[::-1]
        srcs = [proj(x) for proj, x in zip(self.input_proj, levels)]
        pos = torch.cat([self.level_pos(x) +
                         self.level_embed[lvl].view(1, 1, -1)
                         for lvl, x in enumerate(levels)], 1)  # (B, S, C)
        sizes = tuple(tuple(x.shape[-2:]) for x in srcs)
        geometry = self.level_geometry(sizes, len(srcs[0]), srcs[0].device)
        tokens = torch.cat([x.flatten(2).transpose(1, 2) for x in srcs], 1)
        tokens = self.encoder(tokens, pos, geometry.reference_points,
                              geometry.spatial_shapes,
                              geometry.level_start_index)
        batch, _, channels = tokens.shape
        return [t.transpose(1, 2).reshape(batch, channels, h, w)
                for t, (h, w) in zip(
                    tokens.split([h * w for h, w in sizes], dim=1), sizes)]

    def forward(self, feats: Sequence[torch.Tensor]
                ) -> MultiScalePixelDecoderOutput:
        """feats: the backbone levels, high resolution first."""
        if len(feats) != len(self.in_channels):
            raise ValueError(f'{len(feats)} feature maps for '
                             f'{len(self.in_channels)} in_channels')
        with torch.autocast(device_type=feats[0].device.type, enabled=False):
            feats = [f.float() for f in feats]
            out = self.encode(feats)
            for i in range(self.num_fpn_levels - 1, -1, -1):
                lateral = self.lateral_convs[i](feats[i])
                y = lateral + F.interpolate(
                    out[-1], size=lateral.shape[-2:], mode='bilinear',
                    align_corners=False)
                out.append(self.output_convs[i](y))
            return MultiScalePixelDecoderOutput(
                self.mask_feature(out[-1]), out[:self.num_memory_levels])
