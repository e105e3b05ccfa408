"""Mask2Former's pixel decoder: a deformable-attention encoder over the three
coarsest backbone levels plus FPN levels down to stride 4 (official
``MSDeformAttnPixelDecoder``, ``modeling/pixel_decoder/msdeformattn.py``)."""
import math
from collections import OrderedDict
from typing import List, NamedTuple, Optional, Sequence

import torch
import torch.nn.functional as F
from mmcv.ops.multi_scale_deform_attn import (
    MultiScaleDeformableAttnFunction,
    multi_scale_deformable_attn_pytorch,
)
from mmengine.model import BaseModule
from torch import nn

from mmmaskformer.layers import ConvNormAct, PositionEmbeddingSine, c2_xavier_fill
from mmmaskformer.layers.ms_deform_attn import MSDeformAttnEncoder, flatten_levels, split_levels
from mmmaskformer.registry import MODELS

# official ``MSDeformAttn.im2col_step`` (CUDA kernel only)
IM2COL_STEP = 128


def mmcv_deform_attn(value: torch.Tensor, spatial_shapes: torch.Tensor,
                     level_start_index: torch.Tensor,
                     sampling_locations: torch.Tensor,
                     attention_weights: torch.Tensor) -> torch.Tensor:
    """mmcv's deformable-attention kernels: the compiled op on CUDA (as the
    official CUDA op), the pure-PyTorch one elsewhere (the formula of the
    official CPU fallback, ``ms_deform_attn_core_pytorch``)."""
    if value.is_cuda:
        return MultiScaleDeformableAttnFunction.apply(
            value, spatial_shapes, level_start_index, sampling_locations,
            attention_weights, IM2COL_STEP)
    return multi_scale_deformable_attn_pytorch(value, spatial_shapes,
                                               sampling_locations,
                                               attention_weights)


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
            kernel=mmcv_deform_attn)
        nn.init.normal_(self.level_embed)
        self.pos_embed = PositionEmbeddingSine(conv_dim // 2, normalize=True)
        self._pos_cache = {}  # see level_pos
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

    def encode(self, feats: Sequence[torch.Tensor]) -> List[torch.Tensor]:
        """The encoder outputs, coarsest first: [(B, C, h_l, w_l)]."""
        levels = list(feats[len(feats) - self.num_transformer_levels:])[::-1]
        srcs = [proj(x) for proj, x in zip(self.input_proj, levels)]
        pos = [self.level_pos(x) +
               self.level_embed[lvl].view(1, 1, -1)
               for lvl, x in enumerate(levels)]  # (B, h_l*w_l, C) each
        tokens, shapes = flatten_levels(srcs)  # (B, S, C), (L, 2)
        tokens = self.encoder(tokens, torch.cat(pos, 1), shapes)
        return split_levels(tokens, shapes)

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
