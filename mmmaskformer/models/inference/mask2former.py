"""Mask2Former's inference rules where they differ from MaskFormer's: pure
functions (official ``mask2former/maskformer_model.py``).

* semantic: the same ``semantic_inference`` (see
  :func:`~.semantic.probabilistic_semantic_inference`), in either of the two
  official orders (:func:`mask2former_semantic_inference`);
* panoptic: a segment keeps only its pixels with sigmoid >= 0.5 and needs at
  least one (:func:`mask2former_panoptic_inference`); MaskFormer kept every
  pixel the query won;
* instance: top k over all (query, class) pairs, then the thing filter
  (:func:`mask2former_instance_inference`).

Shapes of one image: Q queries, K classes (K+1 logits, the last = no
object), H x W pixels.
"""
import math
from typing import Iterable, List, NamedTuple, Optional, Sequence

import torch

from mmmaskformer.structures import PanopticResult

from .panoptic import assign_pixels, filter_queries
from .resize import crop_and_resize
from .semantic import probabilistic_semantic_inference


def mask2former_semantic_inference(cls_logits: torch.Tensor,
                                   mask_logits: torch.Tensor,
                                   img_size: Sequence[int],
                                   output_size: Sequence[int],
                                   resize_logits_first: bool = True
                                   ) -> torch.Tensor:
    """(K, out_h, out_w) semantic scores of one image.

    cls_logits (Q, K+1), mask_logits (Q, H_pad, W_pad) already upsampled to
    the padded input. ``resize_logits_first`` (the official panoptic and
    instance configs: ``SEM_SEG_POSTPROCESSING_BEFORE_INFERENCE`` forced
    on) crops and resizes the mask logits, then combines; otherwise (the
    semantic-only configs) combines at the padded size and crops and
    resizes the K score maps. The two differ (interpolating logits vs
    scores).
    """
    if resize_logits_first:
        mask_logits = crop_and_resize(mask_logits, img_size, output_size)
        return probabilistic_semantic_inference(cls_logits, mask_logits)
    scores = probabilistic_semantic_inference(cls_logits, mask_logits)
    return crop_and_resize(scores, img_size, output_size)


def mask2former_panoptic_inference(cls_logits: torch.Tensor,
                                   mask_logits: torch.Tensor,
                                   thing_classes: Iterable[int],
                                   object_mask_threshold: float = 0.8,
                                   overlap_threshold: float = 0.8,
                                   label_ids_to_fuse: Optional[
                                       Iterable[int]] = None
                                   ) -> PanopticResult:
    """Official Mask2Former ``panoptic_inference`` of one image.

    Queries whose top class is not no-object and whose score is strictly
    above ``object_mask_threshold`` are kept; each pixel goes to the kept
    query with the largest ``score * sigmoid(mask)``. Visiting the kept
    queries in order, query k's segment is ``won_k & (sigmoid_k >= 0.5)``;
    it is skipped if ``won_k``, ``sigmoid_k >= 0.5`` or the segment is
    empty, or if ``area(won_k) / area(sigmoid_k >= 0.5) <
    overlap_threshold``. A stuff class (not in ``thing_classes``, whatever
    its index) seen before merges into its first segment; things never
    merge. ``label_ids_to_fuse`` (the Hugging Face name) replaces "the
    stuff classes" as the set of classes that merge. Ids from 1, void 0.

    cls_logits (Q, K+1), mask_logits (Q, H, W) -> panoptic_seg (H, W) int32
    and ``segments_info`` ``{id, isthing, category_id}``.
    """
    h, w = mask_logits.shape[-2:]
    panoptic_seg = torch.zeros((h, w), dtype=torch.int32,
                               device=mask_logits.device)
    segments_info: List[dict] = []
    kept = filter_queries(cls_logits, mask_logits, object_mask_threshold)
    if kept.index.numel() == 0:
        return PanopticResult(panoptic_seg, segments_info)
    thing_classes = set(int(c) for c in thing_classes)
    fuse = None if label_ids_to_fuse is None else set(
        int(c) for c in label_ids_to_fuse)
    mask_ids = assign_pixels(kept.scores, kept.mask_logits)  # (H, W)
    original = kept.mask_logits.float().sigmoid() >= 0.5  # (Q', H, W)
    won = mask_ids[None] == torch.arange(
        len(kept.index), device=mask_ids.device)[:, None, None]
    segment = won & original
    # one host transfer for the three areas of every kept query
    areas = torch.stack([won.sum((1, 2)), original.sum((1, 2)),
                         segment.sum((1, 2))], 1).tolist()
    stuff_ids = {}
    current_id = 0
    for k, label in enumerate(kept.labels.tolist()):
        won_area, original_area, segment_area = areas[k]
        if won_area == 0 or original_area == 0 or segment_area == 0:
            continue
        if won_area / original_area < overlap_threshold:
            continue
        isthing = label in thing_classes
        merges = (not isthing) if fuse is None else label in fuse
        if merges and label in stuff_ids:
            panoptic_seg[segment[k]] = stuff_ids[label]
            continue
        current_id += 1
        if merges:
            stuff_ids[label] = current_id
        panoptic_seg[segment[k]] = current_id
        segments_info.append(dict(id=current_id, isthing=bool(isthing),
                                  category_id=int(label)))
    return PanopticResult(panoptic_seg, segments_info)


class TopKInstances(NamedTuple):
    """Instances of one image, by descending class probability."""
    masks: torch.Tensor  # (n, H, W) bool, mask logit > 0
    labels: torch.Tensor  # (n,) int64
    scores: torch.Tensor  # (n,) class probability x mean mask probability
    flat_index: torch.Tensor  # (n,) int64 into the (Q*K) pairs: q*K + c
    boxes: torch.Tensor  # (n, 4) zeros, as officially (no box from masks)


def mask2former_instance_inference(cls_logits: torch.Tensor,
                                   mask_logits: torch.Tensor,
                                   topk: int = 100,
                                   thing_classes: Optional[Iterable[int]] = None,
                                   mask_threshold: float = 0.5
                                   ) -> TopKInstances:
    """Official Mask2Former ``instance_inference`` of one image.

    The ``topk`` largest of the Q*K class probabilities (softmax over K+1,
    no-object dropped) over all (query, class) pairs, so one query may give
    several instances; then, when ``thing_classes`` is given (the official
    ``panoptic_on``), only pairs of a thing class stay (membership, not an
    index range); masks are ``sigmoid > mask_threshold`` (0.5, officially:
    ``logit > 0``); score = probability x the mean
    sigmoid inside the binary mask (``+1e-6`` in the denominator). ``topk``
    is clamped to Q*K (the official code would fail above it).

    The official order (``topk(sorted=False)``) is implementation-defined;
    this one is by descending probability (``flat_index`` identifies each
    pair). cls_logits (Q, K+1), mask_logits (Q, H, W).
    """
    num_queries, k1 = cls_logits.shape
    num_classes = k1 - 1
    probs = cls_logits.float().softmax(-1)[:, :-1].flatten()  # (Q*K,)
    top, flat_index = probs.topk(min(topk, probs.numel()))
    labels = flat_index % num_classes
    if thing_classes is not None:
        things = torch.as_tensor(sorted(int(c) for c in thing_classes),
                                 dtype=torch.long, device=labels.device)
        keep = torch.isin(labels, things)
        top, flat_index, labels = top[keep], flat_index[keep], labels[keep]
    if not 0 < mask_threshold < 1:
        raise ValueError(f'mask_threshold={mask_threshold}: expected a '
                         'probability in (0, 1)')
    logits = mask_logits[flat_index // num_classes].float()  # (n, H, W)
    # sigmoid(x) > t  <=>  x > log(t / (1 - t)), exact (x > 0) at t = 0.5
    masks = logits > math.log(mask_threshold / (1 - mask_threshold))
    mask_score = (logits.sigmoid() * masks).flatten(1).sum(1) / (
        masks.flatten(1).sum(1) + 1e-6)
    return TopKInstances(masks, labels, top * mask_score, flat_index,
                         logits.new_zeros((len(top), 4)))
