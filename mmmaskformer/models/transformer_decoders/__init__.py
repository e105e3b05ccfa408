from .detr_transformer_decoder import DETRTransformerDecoder
from .masked_transformer_decoder import MultiScaleMaskedTransformerDecoder  # noqa: F401

__all__ = ['DETRTransformerDecoder']
