from .hungarian_assigner import (FixedMatchingAssigner, HungarianAssigner,
                                 downsample_target_masks)

__all__ = [
    "FixedMatchingAssigner", "HungarianAssigner", "downsample_target_masks"
]
