"""The MaskFormer set criterion: matching, then classification + focal +
dice losses on the matched pairs of every decoder layer.

Shapes: L decoder layers, B images, Q queries, K classes, M_b targets of
image b, N matched pairs of all layers and images, (h, w) the mask logits'
size (stride 4), (H, W) the targets' (padded input) size.
"""
from typing import Dict, Optional, Sequence

import torch
import torch.distributed as dist
import torch.nn.functional as F
from torch import nn

from mmmaskformer.registry import MODELS, TASK_UTILS, build_scoped
from mmmaskformer.structures import FlatMatches, MaskTargets

from .classification_loss import MaskClassificationLoss
from .mask_losses import point_sampled_focal_dice, upsampled_focal_dice


def num_masks_across_ranks(targets: Sequence[MaskTargets],
                           device: torch.device):
    """Number of target masks, averaged over ranks, at least 1 (official).

    A Python float on one process; a device tensor (no host sync) under
    DDP, where it is all-reduced.
    """
    num = float(sum(len(t.labels) for t in targets))
    if dist.is_available() and dist.is_initialized():
        num = torch.tensor(num, device=device)
        dist.all_reduce(num)
        return (num / dist.get_world_size()).clamp(min=1.0)
    return max(num, 1.0)


def pad_target_masks(targets: Sequence[MaskTargets], dtype) -> torch.Tensor:
    """Stack the masks of all images, zero-padded to the largest (H, W).

    -> (sum M_b, H_max, W_max), images in order (official
    ``nested_tensor_from_tensor_list`` followed by ``[tgt_idx]``).
    """
    h = max(t.masks.shape[-2] for t in targets)
    w = max(t.masks.shape[-1] for t in targets)
    out = []
    for t in targets:
        m = t.masks.to(dtype)
        if m.shape[-2:] != (h, w):
            m = F.pad(m, (0, w - m.shape[-1], 0, h - m.shape[-2]))
        out.append(m)
    return torch.cat(out)


def target_classes_of(pairs: FlatMatches, targets: Sequence[MaskTargets],
                      num_layers: int, batch_size: int, num_queries: int,
                      num_classes: int, device) -> torch.Tensor:
    """(L, B, Q) class target of every query: the matched target's class,
    no object (``num_classes``) elsewhere."""
    out = torch.full((num_layers, batch_size, num_queries), num_classes,
                     dtype=torch.int64, device=device)
    labels = torch.cat([t.labels for t in targets]).to(device)
    out[pairs.layer_idx, pairs.batch_idx, pairs.query_idx] = \
        labels[pairs.target_idx]
    return out


def losses_by_key(per_layer: Dict[str, torch.Tensor]
                  ) -> Dict[str, torch.Tensor]:
    """(L,) vectors -> the official keys and order: the last layer first
    (``loss_ce``, ``loss_mask``, ``loss_dice``), then auxiliary layers
    ``0 .. L-2`` (``loss_ce_0`` ...)."""
    num_layers = len(next(iter(per_layer.values())))
    unbound = {k: v.unbind(0) for k, v in per_layer.items()}  # 1 op each
    losses = {}
    for layer in [num_layers - 1] + list(range(num_layers - 1)):
        suffix = '' if layer == num_layers - 1 else f'_{layer}'
        for key, values in unbound.items():
            losses[key + suffix] = values[layer]
    return losses


@MODELS.register_module()
class SetCriterion(nn.Module):
    """Matches every decoder layer to the targets and computes its losses.

    Loss keys follow the official release: ``loss_ce``, ``loss_mask``,
    ``loss_dice`` for the last layer, ``loss_ce_{i}`` ... for auxiliary layer
    ``i`` (``i = 0`` is the first decoder layer), each multiplied by its
    weight (official ``weight_dict``); mmengine sums them.

    * ``loss_ce``: cross-entropy over K+1 classes, the class-weighted mean
      over all B*Q queries (no-object weight ``no_object_weight``), see
      :class:`MaskClassificationLoss`;
    * ``loss_mask``, ``loss_dice``: sigmoid focal (``focal_alpha``,
      ``focal_gamma``) and dice losses summed over each layer's matched
      masks, divided by ``num_masks``.

    Official details kept: the matching is re-run for every layer; mask losses
    are computed at the target resolution on bilinearly upsampled matched
    predictions (exact mode, without keeping full-size intermediates, see
    :func:`upsampled_focal_dice`); ``num_masks`` is averaged over ranks and
    shared by all layers; ignored and padded pixels are negatives in every
    target mask; matching and losses run in float32 under autocast.

    ``num_points`` (opt-in memory-efficient mode, Mask2Former): the focal and
    dice losses are computed on that many points per matched mask instead of
    the full-resolution upsampled masks, see
    :func:`point_sampled_focal_dice`. Pair it with the assigner's
    ``num_points`` (uniform points for matching).

    The assigner is any ``TASK_UTILS`` entry whose ``assign(cls_logits,
    mask_logits, targets)`` returns :class:`FlatMatches`
    (``MaskFormerHungarianAssigner``, ``FixedMatchingAssigner``).
    """

    def __init__(self, num_classes: int,
                 assigner: Optional[dict] = None,
                 class_weight: float = 1.0,
                 mask_weight: float = 20.0,
                 dice_weight: float = 1.0,
                 no_object_weight: float = 0.1,
                 focal_alpha: float = 0.25,
                 focal_gamma: float = 2.0,
                 num_points: Optional[int] = None,
                 oversample_ratio: float = 3.0,
                 importance_sample_ratio: float = 0.75) -> None:
        super().__init__()
        self.num_classes = num_classes
        self.focal_alpha = focal_alpha
        self.focal_gamma = focal_gamma
        self.num_points = num_points
        self.oversample_ratio = oversample_ratio
        self.importance_sample_ratio = importance_sample_ratio
        self.assigner = build_scoped(
            TASK_UTILS, assigner or dict(type='MaskFormerHungarianAssigner'))
        self.loss_cls = MaskClassificationLoss(num_classes, no_object_weight)
        # official weight_dict (cfg.MODEL.MASK_FORMER.{MASK,DICE}_WEIGHT)
        self.weights = dict(loss_ce=class_weight, loss_mask=mask_weight,
                            loss_dice=dice_weight)

    def forward(self, cls_logits: torch.Tensor, mask_logits: torch.Tensor,
                targets: Sequence[MaskTargets],
                matches: Optional[FlatMatches] = None,
                weighted: bool = True) -> Dict[str, torch.Tensor]:
        """The losses of all layers, in the official key order.

        cls_logits (L, B, Q, K+1), mask_logits (L, B, Q, h, w), targets:
        one :class:`MaskTargets` per image. ``matches``: the assigner's
        when None (training), else given (to price another assignment).
        ``weighted=False`` returns the terms before their weights (what
        the official parity records). Matching and losses run in float32,
        also under ``--amp``.
        """
        with torch.autocast(device_type=cls_logits.device.type,
                            enabled=False):
            cls_logits, mask_logits = cls_logits.float(), mask_logits.float()
            if matches is None:
                matches = self.assigner.assign(cls_logits, mask_logits,
                                               targets)
            per_layer = self._per_layer_losses(cls_logits, mask_logits,
                                              targets, matches)
        if weighted:
            per_layer = {k: v * self.weights[k] for k, v in per_layer.items()}
        return losses_by_key(per_layer)

    def _per_layer_losses(self, cls_logits: torch.Tensor,
                         mask_logits: torch.Tensor,
                         targets: Sequence[MaskTargets],
                         matches: FlatMatches) -> Dict[str, torch.Tensor]:
        """Unweighted (L,) ``loss_ce``, ``loss_mask``, ``loss_dice``,
        computed for all layers at once (float32 inputs).

        The class loss is each layer's class-weighted mean over its B*Q
        queries; the mask losses are each layer's sums over its matched
        masks / ``num_masks``.
        """
        num_layers, batch_size, num_queries = cls_logits.shape[:3]
        num_masks = num_masks_across_ranks(targets, cls_logits.device)
        loss_ce = self.loss_cls(cls_logits, target_classes_of(
            matches, targets, num_layers, batch_size, num_queries,
            self.num_classes, cls_logits.device))  # (L,)
        zero = mask_logits.new_zeros(num_layers)
        if matches.query_idx.numel() == 0:
            # keep a (zero) gradient path so every parameter takes part
            zero = zero + mask_logits.sum() * 0.0
            return dict(loss_ce=loss_ce, loss_mask=zero, loss_dice=zero)
        target_masks = pad_target_masks(targets, torch.float32)
        pred = mask_logits[matches.layer_idx, matches.batch_idx,
                           matches.query_idx]  # (N, h, w)
        if self.num_points:
            focal, dice = point_sampled_focal_dice(
                pred, target_masks, matches.target_idx, self.num_points,
                self.oversample_ratio, self.importance_sample_ratio,
                self.focal_alpha, self.focal_gamma)
        else:
            focal, dice = upsampled_focal_dice(
                pred, target_masks, self.focal_alpha, self.focal_gamma,
                index=matches.target_idx)
        loss_mask = zero.index_add(0, matches.layer_idx, focal) / num_masks
        loss_dice = zero.index_add(0, matches.layer_idx, dice) / num_masks
        return dict(loss_ce=loss_ce, loss_mask=loss_mask, loss_dice=loss_dice)
