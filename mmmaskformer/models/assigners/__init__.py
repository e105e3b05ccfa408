from .hungarian_assigner import HungarianAssigner, downsample_target_masks

__all__ = ['HungarianAssigner', 'downsample_target_masks']
