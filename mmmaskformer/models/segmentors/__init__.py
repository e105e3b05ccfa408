from .maskformer_encoder_decoder import MaskFormerEncoderDecoder
from .maskformer_panoptic import MaskFormerPanoptic
from .panoptic_targets import panoptic_targets

__all__ = ['MaskFormerEncoderDecoder', 'MaskFormerPanoptic', 'panoptic_targets']
