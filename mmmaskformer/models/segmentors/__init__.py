from .maskformer_panoptic import MaskFormerPanoptic
from .panoptic_targets import panoptic_targets

__all__ = ['MaskFormerPanoptic', 'panoptic_targets']
