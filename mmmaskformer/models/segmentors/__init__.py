from .maskformer_encoder_decoder import MaskFormerEncoderDecoder
from .maskformer_panoptic import MaskFormerPanoptic
from .panoptic_targets import panoptic_targets
from .tta import MaskFormerTTAModel, merge_score_maps

__all__ = [
    'MaskFormerEncoderDecoder', 'MaskFormerPanoptic', 'MaskFormerTTAModel',
    'merge_score_maps', 'panoptic_targets'
]
