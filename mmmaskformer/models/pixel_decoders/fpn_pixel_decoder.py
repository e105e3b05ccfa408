"""The official FPN pixel decoder (``BasePixelDecoder``)."""
from typing import List, Sequence

import torch
import torch.nn.functional as F
from mmengine.model import BaseModule
from torch import nn

from mmmaskformer.layers import ConvNormAct, c2_xavier_fill
from mmmaskformer.registry import MODELS
from mmmaskformer.structures import PixelDecoderOutput


@MODELS.register_module()
class FPNPixelDecoder(BaseModule):
    """FPN pixel decoder producing the stride-4 per-pixel embedding.

    Top-down over the backbone levels (strides 4, 8, 16, 32)::

        y = output_convs[3](res5)                                  3x3 + GN + ReLU
        y = output_convs[i](lateral_convs[i](res_i) + up_nearest(y))  1x1 + GN; 3x3 + GN + ReLU
        pixel_embed = mask_feature(y)                              3x3 conv with bias

    Convs followed by GroupNorm(32) have no bias; every conv is
    ``c2_xavier_fill``-initialised (official). ``memory`` is res5, which the
    transformer decoder attends to.

    Args:
        in_channels: channels of the backbone levels, high resolution first.
        conv_dim: FPN width (official ``CONVS_DIM``).
        mask_dim: per-pixel embedding width (official ``MASK_DIM``).
        num_groups: GroupNorm groups (detectron2 ``get_norm('GN')`` = 32).
    """

    def __init__(self, in_channels: Sequence[int], conv_dim: int = 256,
                 mask_dim: int = 256, num_groups: int = 32,
                 init_cfg=None) -> None:
        super().__init__(init_cfg)
        self.in_channels = list(in_channels)
        self.conv_dim = conv_dim
        self.mask_dim = mask_dim
        self.lateral_convs = nn.ModuleList(
            ConvNormAct(c, conv_dim, 1, num_groups, act=False)
            for c in self.in_channels[:-1])
        self.output_convs = nn.ModuleList(
            ConvNormAct(conv_dim, conv_dim, 3, num_groups)
            for _ in self.in_channels[:-1])
        self.output_convs.append(self._top_conv(num_groups))
        self.mask_feature = nn.Conv2d(conv_dim, mask_dim, 3, padding=1)
        c2_xavier_fill(self.mask_feature)

    def _top_conv(self, num_groups: int) -> nn.Module:
        return ConvNormAct(self.in_channels[-1], self.conv_dim, 3, num_groups)

    @property
    def memory_channels(self) -> int:
        """Channels of ``memory``, the transformer decoder's input."""
        return self.in_channels[-1]

    def top(self, res5: torch.Tensor) -> torch.Tensor:
        """The top of the pyramid and the decoder's memory."""
        return res5

    def forward(self, feats: List[torch.Tensor]) -> PixelDecoderOutput:
        memory = self.top(feats[-1])
        y = self.output_convs[-1](memory)  # (B, C, H/32, W/32)
        for i in range(len(feats) - 2, -1, -1):
            lateral = self.lateral_convs[i](feats[i])
            y = lateral + F.interpolate(y, size=lateral.shape[-2:],
                                        mode='nearest')
            y = self.output_convs[i](y)
        return PixelDecoderOutput(self.mask_feature(y), memory)
