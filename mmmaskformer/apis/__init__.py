from .inferencer import MaskFormerInferencer

__all__ = ['MaskFormerInferencer']
