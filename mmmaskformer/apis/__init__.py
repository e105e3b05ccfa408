from .inferencer import MaskFormerInferencer
from .upstream_config import upstream_inference_config

__all__ = ['MaskFormerInferencer', 'upstream_inference_config']
