from .official import convert_backbone_weights, convert_official_state_dict

__all__ = ["convert_backbone_weights", "convert_official_state_dict"]
