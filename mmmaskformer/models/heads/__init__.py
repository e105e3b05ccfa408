from .mask2former_head import Mask2FormerHead
from .maskformer_head import MaskFormerHead
from .per_pixel_baseline_head import PerPixelBaselineHead, PerPixelBaselinePlusHead

__all__ = [
    'Mask2FormerHead', 'MaskFormerHead', 'PerPixelBaselineHead',
    'PerPixelBaselinePlusHead'
]
