from .fpn_pixel_decoder import FPNPixelDecoder
from .transformer_encoder_pixel_decoder import TransformerEncoderPixelDecoder

__all__ = ['FPNPixelDecoder', 'TransformerEncoderPixelDecoder']
