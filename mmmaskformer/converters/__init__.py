from .mask2former import convert_mask2former_state_dict  # noqa: F401
from .official import convert_backbone_weights, convert_official_state_dict
from .openmmlab import openmmlab_to_ours, ours_to_openmmlab

__all__ = ["convert_backbone_weights", "convert_official_state_dict",
           "openmmlab_to_ours", "ours_to_openmmlab"]
