"""The official ``TransformerEncoderPixelDecoder`` (the "+6 Enc" of Table 3)."""
from typing import Sequence

import torch
from torch import nn

from mmmaskformer.layers import (
    ConvNormAct,
    PositionEmbeddingSine,
    TransformerEncoder,
    c2_xavier_fill,
    xavier_init_transformer,
)
from mmmaskformer.registry import MODELS

from .fpn_pixel_decoder import FPNPixelDecoder


@MODELS.register_module()
class TransformerEncoderPixelDecoder(FPNPixelDecoder):
    """FPN pixel decoder with a transformer encoder on res5.

    Named after the paper's module, so it shares its name with mmdet's;
    configs name it ``mmmaskformer.TransformerEncoderPixelDecoder``.

    ``memory = encoder(input_proj(res5), pos=sine(res5))`` (B, conv_dim, h, w)
    is both the top of the FPN (``output_convs[-1]`` takes ``conv_dim``
    channels) and what the transformer decoder attends to. Post-norm DETR
    encoder layers; a final encoder norm only with ``pre_norm``. No padding
    mask (official).
    """

    def __init__(self, in_channels: Sequence[int], conv_dim: int = 256,
                 mask_dim: int = 256, num_groups: int = 32,
                 num_encoder_layers: int = 6, num_heads: int = 8,
                 dim_feedforward: int = 2048, dropout: float = 0.1,
                 pre_norm: bool = False, init_cfg=None) -> None:
        super().__init__(in_channels, conv_dim, mask_dim, num_groups,
                         init_cfg)
        self.input_proj = nn.Conv2d(self.in_channels[-1], conv_dim, 1)
        c2_xavier_fill(self.input_proj)
        self.pos_embed = PositionEmbeddingSine(conv_dim // 2, normalize=True)
        self.encoder = TransformerEncoder(num_encoder_layers, conv_dim,
                                          num_heads, dim_feedforward, dropout,
                                          pre_norm)
        xavier_init_transformer(self.encoder)

    def _top_conv(self, num_groups: int) -> nn.Module:
        return ConvNormAct(self.conv_dim, self.conv_dim, 3, num_groups)

    @property
    def memory_channels(self) -> int:
        return self.conv_dim

    def top(self, res5: torch.Tensor) -> torch.Tensor:
        b, _, h, w = res5.shape
        pos = self.pos_embed(res5).flatten(2).permute(2, 0, 1)  # (S, B, C)
        src = self.input_proj(res5).flatten(2).permute(2, 0, 1)  # (S, B, C)
        memory = self.encoder(src, pos=pos)  # (S, B, C)
        return memory.permute(1, 2, 0).reshape(b, -1, h, w)  # (B, C, h, w)
