"""The fixed matching of MaskFormer-fixed (paper Table 4b)."""
from typing import Sequence

import torch

from mmmaskformer.registry import TASK_UTILS
from mmmaskformer.structures import FlatMatches, MaskTargets


@TASK_UTILS.register_module()
class FixedMatchingAssigner:
    """MaskFormer-fixed (paper Table 4b): N = K queries, query ``i`` always
    predicts class ``i``; a target of class ``c`` is matched to query ``c``
    (official issue #22's recipe) instead of by Hungarian matching.

    Valid for semantic targets (one segment per class). Raises when the
    number of queries is not K or a class has several segments.
    """

    @torch.no_grad()
    def assign(self, cls_logits: torch.Tensor, mask_logits: torch.Tensor,
               targets: Sequence[MaskTargets]) -> FlatMatches:
        """cls_logits (L, B, Q, K+1) (only the shape is read) -> the same
        pairs for every layer, as :class:`FlatMatches` in the Hungarian
        assigner's order: grouped by layer then image, queries ascending,
        targets indexed among all images' targets."""
        num_layers, _, num_queries, k1 = cls_logits.shape
        if num_queries != k1 - 1:
            raise ValueError(
                f'MaskFormer-fixed needs num_queries == num_classes, got '
                f'{num_queries} queries for {k1 - 1} classes')
        device = cls_logits.device
        batch_idx, query_idx, target_idx = [], [], []
        offset = 0
        for b, target in enumerate(targets):
            labels = target.labels.to(device)
            if labels.unique().numel() != labels.numel():
                raise ValueError('MaskFormer-fixed needs one segment per '
                                 f'class, got labels {labels.tolist()}')
            order = labels.argsort()  # targets by class = by query
            batch_idx.append(torch.full_like(order, b))
            query_idx.append(labels[order])
            target_idx.append(order + offset)
            offset += len(labels)
        one_layer = [torch.cat(idx) if idx else
                     torch.zeros(0, dtype=torch.int64, device=device)
                     for idx in (batch_idx, query_idx, target_idx)]
        num_pairs = len(one_layer[0])
        layer_idx = torch.arange(num_layers, device=device).repeat_interleave(
            num_pairs)
        return FlatMatches(layer_idx,
                           *(idx.repeat(num_layers) for idx in one_layer))
