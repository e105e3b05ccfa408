from .hungarian_assigner import (FixedMatchingAssigner, MaskFormerHungarianAssigner,
                                 downsample_target_masks)

__all__ = [
    "FixedMatchingAssigner", "MaskFormerHungarianAssigner", "downsample_target_masks"
]
