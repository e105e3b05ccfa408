from .instance import InstanceResult, instance_inference
from .panoptic import assign_pixels, filter_queries, panoptic_inference
from .resize import crop_and_resize
from .semantic import (
                       SEMANTIC_INFERENCE,
                       general_semantic_inference,
                       iterative_semantic_inference,
                       probabilistic_semantic_inference,
)

__all__ = [
    'InstanceResult', 'instance_inference', 'assign_pixels', 'crop_and_resize',
    'filter_queries', 'panoptic_inference',
    'probabilistic_semantic_inference', 'general_semantic_inference',
    'iterative_semantic_inference', 'SEMANTIC_INFERENCE'
]
