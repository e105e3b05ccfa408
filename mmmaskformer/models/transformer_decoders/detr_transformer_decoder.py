"""The MaskFormer transformer decoder (official ``TransformerPredictor`` minus
its class and mask heads, which live in ``MaskFormerHead``)."""
import torch
from mmengine.model import BaseModule
from torch import nn

from mmmaskformer.layers import (
    PositionEmbeddingSine,
    TransformerDecoder,
    TransformerEncoder,
    c2_xavier_fill,
    xavier_init_transformer,
)
from mmmaskformer.registry import MODELS


@MODELS.register_module()
class DETRTransformerDecoder(BaseModule):
    """N learned queries decode the image feature into N segment embeddings.

    ``memory`` (B, C, h, w) -> ``input_proj`` (1x1 conv, only when C != D or
    ``enforce_input_proj``) -> optional encoder (0 layers in every official
    config) -> ``num_layers`` post-norm DETR decoder layers with queries
    starting at zero and ``query_embed`` as their positional embedding ->
    shared final LayerNorm on every layer's output.

    Returns (L, B, Q, D), one entry per decoder layer (deep supervision).
    """

    def __init__(self, in_channels: int, hidden_dim: int = 256,
                 num_queries: int = 100, num_heads: int = 8,
                 dim_feedforward: int = 2048, dropout: float = 0.1,
                 num_layers: int = 6, num_encoder_layers: int = 0,
                 pre_norm: bool = False, enforce_input_proj: bool = False,
                 init_cfg=None) -> None:
        super().__init__(init_cfg)
        self.hidden_dim = hidden_dim
        self.num_queries = num_queries
        self.num_layers = num_layers
        self.pos_embed = PositionEmbeddingSine(hidden_dim // 2, normalize=True)
        if in_channels != hidden_dim or enforce_input_proj:
            self.input_proj = nn.Conv2d(in_channels, hidden_dim, 1)
            c2_xavier_fill(self.input_proj)
        else:
            self.input_proj = nn.Identity()
        self.encoder = TransformerEncoder(num_encoder_layers, hidden_dim,
                                          num_heads, dim_feedforward, dropout,
                                          pre_norm)
        self.decoder = TransformerDecoder(num_layers, hidden_dim, num_heads,
                                          dim_feedforward, dropout, pre_norm)
        xavier_init_transformer(self.encoder)
        xavier_init_transformer(self.decoder)
        self.query_embed = nn.Embedding(num_queries, hidden_dim)

    def forward(self, memory: torch.Tensor) -> torch.Tensor:
        b = memory.shape[0]
        pos = self.pos_embed(memory).flatten(2).permute(2, 0, 1)  # (S, B, D)
        src = self.input_proj(memory).flatten(2).permute(2, 0, 1)  # (S, B, D)
        src = self.encoder(src, pos=pos)
        query_pos = self.query_embed.weight[:, None].repeat(1, b, 1)  # (Q, B, D)
        tgt = torch.zeros_like(query_pos)
        hs = self.decoder(tgt, src, pos=pos, query_pos=query_pos)  # (L, Q, B, D)
        return hs.transpose(1, 2)  # (L, B, Q, D)
