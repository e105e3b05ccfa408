from .fixed_matching_assigner import FixedMatchingAssigner
from .hungarian_assigner import MaskFormerHungarianAssigner, downsample_target_masks

__all__ = [
    'FixedMatchingAssigner', 'MaskFormerHungarianAssigner',
    'downsample_target_masks'
]
