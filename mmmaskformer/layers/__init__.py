"""Plain building blocks: no registry, no config, no OpenMMLab imports."""
from .conv import ConvNormAct, c2_xavier_fill
from .mlp import MLP
from .position_encoding import PositionEmbeddingSine
from .transformer import (
                          TransformerDecoder,
                          TransformerDecoderLayer,
                          TransformerEncoder,
                          TransformerEncoderLayer,
                          xavier_init_transformer,
)

__all__ = [
    'ConvNormAct', 'c2_xavier_fill', 'MLP', 'PositionEmbeddingSine',
    'TransformerDecoder', 'TransformerDecoderLayer', 'TransformerEncoder',
    'TransformerEncoderLayer', 'xavier_init_transformer'
]
