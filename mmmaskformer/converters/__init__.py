from .mask2former import convert_mask2former_state_dict  # noqa: F401
from .mmdet_mask2former import mmdet_mask2former_to_ours, ours_to_mmdet_mask2former
from .official import convert_backbone_weights, convert_official_state_dict
from .openmmlab import openmmlab_to_ours, ours_to_openmmlab

__all__ = ["convert_backbone_weights", "convert_official_state_dict",
           "mmdet_mask2former_to_ours", "openmmlab_to_ours",
           "ours_to_mmdet_mask2former", "ours_to_openmmlab"]
