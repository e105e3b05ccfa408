"""Panoptic ("general") inference from (class, mask) pairs: pure functions.

Official ``MaskFormer.panoptic_inference`` split into its steps. Shapes of one
image: Q queries, K classes (K+1 logits, the last = no object), H x W pixels.
"""
from typing import Iterable, List, NamedTuple, Optional

import torch

from mmmaskformer.structures import PanopticResult


class KeptQueries(NamedTuple):
    index: torch.Tensor  # (Q',) int64, ascending query indices
    scores: torch.Tensor  # (Q',)
    labels: torch.Tensor  # (Q',) int64
    mask_logits: torch.Tensor  # (Q', H, W)


def filter_queries(cls_logits: torch.Tensor, mask_logits: torch.Tensor,
                   object_mask_threshold: float) -> KeptQueries:
    """Keep queries whose argmax class is not no-object and whose score is
    strictly above ``object_mask_threshold``.

    cls_logits (Q, K+1), mask_logits (Q, H, W).
    """
    num_classes = cls_logits.shape[-1] - 1
    scores, labels = cls_logits.float().softmax(-1).max(-1)
    keep = labels.ne(num_classes) & (scores > object_mask_threshold)
    index = keep.nonzero()[:, 0]
    return KeptQueries(index, scores[keep], labels[keep], mask_logits[keep])


def assign_pixels(scores: torch.Tensor, mask_logits: torch.Tensor
                  ) -> torch.Tensor:
    """Each pixel goes to the kept query with the largest score*sigmoid(mask).

    scores (Q',), mask_logits (Q', H, W) -> (H, W) int64 index into the kept
    queries (ties to the first, as ``argmax``).
    """
    prob_masks = scores.view(-1, 1, 1) * mask_logits.float().sigmoid()
    return prob_masks.argmax(0)


def panoptic_inference(cls_logits: torch.Tensor, mask_logits: torch.Tensor,
                       thing_classes: Iterable[int],
                       object_mask_threshold: float = 0.8,
                       overlap_threshold: float = 0.8,
                       label_ids_to_fuse: Optional[Iterable[int]] = None
                       ) -> PanopticResult:
    """General inference of one image (paper Sec. 3.4, official semantics).

    Visiting the kept queries in order: a query with no assigned pixel or no
    pixel with sigmoid >= 0.5 is skipped; one whose assigned area is below
    ``overlap_threshold`` of its own (sigmoid >= 0.5) area is dropped; a stuff
    class seen before merges into its first segment; otherwise the query
    becomes a new segment with the next id (from 1). Pixels of skipped
    queries, and pixels no query wins, stay 0 (void).

    cls_logits (Q, K+1), mask_logits (Q, H, W) -> panoptic_seg (H, W) int32.
    """
    h, w = mask_logits.shape[-2:]
    panoptic_seg = torch.zeros((h, w), dtype=torch.int32,
                               device=mask_logits.device)
    segments_info: List[dict] = []
    kept = filter_queries(cls_logits, mask_logits, object_mask_threshold)
    if kept.index.numel() == 0:
        return PanopticResult(panoptic_seg, segments_info)
    thing_classes = set(int(c) for c in thing_classes)
    mask_ids = assign_pixels(kept.scores, kept.mask_logits)
    original = kept.mask_logits.float().sigmoid() >= 0.5  # (Q', H, W)
    assigned = mask_ids[None] == torch.arange(
        len(kept.index), device=mask_ids.device)[:, None, None]
    mask_area = assigned.sum((1, 2)).tolist()
    original_area = original.sum((1, 2)).tolist()
    labels = kept.labels.tolist()
    fuse = None if label_ids_to_fuse is None else set(
        int(c) for c in label_ids_to_fuse)
    stuff_memory = {}
    current_id = 0
    for k, label in enumerate(labels):
        isthing = label in thing_classes
        merges = (not isthing) if fuse is None else label in fuse
        if mask_area[k] == 0 or original_area[k] == 0:
            continue
        if mask_area[k] / original_area[k] < overlap_threshold:
            continue
        if merges and label in stuff_memory:
            panoptic_seg[assigned[k]] = stuff_memory[label]
            continue
        current_id += 1
        if merges:
            stuff_memory[label] = current_id
        panoptic_seg[assigned[k]] = current_id
        segments_info.append(
            dict(id=current_id, isthing=bool(isthing), category_id=int(label)))
    return PanopticResult(panoptic_seg, segments_info)
