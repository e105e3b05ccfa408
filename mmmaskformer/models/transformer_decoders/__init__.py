from .detr_transformer_decoder import DETRTransformerDecoder

__all__ = ['DETRTransformerDecoder']
