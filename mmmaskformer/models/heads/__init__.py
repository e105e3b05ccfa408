from .maskformer_head import MaskFormerHead

__all__ = ['MaskFormerHead']
