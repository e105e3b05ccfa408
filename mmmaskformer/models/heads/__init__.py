from .maskformer_head import MaskFormerHead
from .per_pixel_baseline_head import PerPixelBaselineHead, PerPixelBaselinePlusHead

__all__ = [
    'MaskFormerHead', 'PerPixelBaselineHead', 'PerPixelBaselinePlusHead'
]
