"""Named tensors that cross module boundaries.

Tensor vocabulary (the same names everywhere in the package)::

    cls_logits   (L, B, Q, K+1)  class logits of every decoder layer; index K = no object
    mask_logits  (L, B, Q, h, w) mask logits of every decoder layer, at the
                                 pixel-embedding stride (4)
    pixel_embed  (B, C, h, w)    per-pixel embedding ("mask features")
    memory       (B, C', h', w') the feature the transformer decoder attends to
    labels       (M,)            ground-truth class of each target mask
    masks        (M, H, W)       ground-truth binary masks (bool/uint8) at the
                                 padded input size

L = decoder layers (the last one is the prediction, the others are auxiliary),
B = batch, Q = queries, K = classes, M = target segments of one image.
"""
from typing import List, NamedTuple, Optional, Tuple

import torch


class PixelDecoderOutput(NamedTuple):
    pixel_embed: torch.Tensor  # (B, C, H/4, W/4)
    memory: torch.Tensor  # (B, C', h', w'): res5, or the encoder output


class MaskFormerOutput(NamedTuple):
    cls_logits: torch.Tensor  # (L, B, Q, K+1)
    mask_logits: torch.Tensor  # (L, B, Q, h, w)

    @property
    def num_layers(self) -> int:
        return self.cls_logits.shape[0]


class MaskTargets(NamedTuple):
    """Targets of one image: one binary mask and one class per segment."""
    labels: torch.Tensor  # (M,) int64
    masks: torch.Tensor  # (M, H, W) bool or uint8


class FlatMatches(NamedTuple):
    """The matched pairs of every layer and image, as flat int64 (N,)
    tensors: decoder layer, image, query in the image, and target among the
    targets of all images (image 0's first)."""
    layer_idx: torch.Tensor
    batch_idx: torch.Tensor
    query_idx: torch.Tensor
    target_idx: torch.Tensor


# (query indices, target indices) of one image, both int64 (n,), queries
# ascending.
MatchIndices = Tuple[torch.Tensor, torch.Tensor]
LayerMatches = List[MatchIndices]


class PanopticResult(NamedTuple):
    """Panoptic prediction of one image in the official format."""
    panoptic_seg: torch.Tensor  # (H, W) int32, 0 = void, ids from 1
    segments_info: List[dict]  # {'id', 'isthing', 'category_id'}
    scores: Optional[torch.Tensor] = None
