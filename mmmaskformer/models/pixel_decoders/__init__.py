from .fpn_pixel_decoder import FPNPixelDecoder
from .msdeform_attn_pixel_decoder import MSDeformAttnPixelDecoder  # noqa: F401
from .transformer_encoder_pixel_decoder import TransformerEncoderPixelDecoder

__all__ = ['FPNPixelDecoder', 'TransformerEncoderPixelDecoder']
