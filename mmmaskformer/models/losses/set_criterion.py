"""The MaskFormer set criterion: matching, then classification + focal +
dice losses on the matched pairs of every decoder layer."""
from typing import Dict, List, NamedTuple, Optional, Sequence

import torch
import torch.distributed as dist
import torch.nn.functional as F
from torch import nn

from mmmaskformer.registry import MODELS, TASK_UTILS, build_scoped
from mmmaskformer.structures import LayerMatches, MaskTargets
from .mask_losses import upsampled_focal_dice
from .point_sampling import point_sample, uncertain_point_coords


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


class MatchedPairs(NamedTuple):
    """Flat indices of one layer's matched (query, target) pairs."""
    batch_idx: torch.Tensor  # (N,) image of each pair
    query_idx: torch.Tensor  # (N,) query in its image
    target_idx: torch.Tensor  # (N,) target among all images' targets
    target_classes: torch.Tensor  # (B, Q) class per query, K = no object


def matched_pairs(matches: LayerMatches, targets: Sequence[MaskTargets],
                  batch_size: int, num_queries: int, num_classes: int,
                  device) -> MatchedPairs:
    """Index bookkeeping: per-image matches -> flat indices and the class
    target of every query (no object where unmatched)."""
    batch_idx = torch.cat([torch.full_like(src, b)
                           for b, (src, _) in enumerate(matches)])
    query_idx = torch.cat([src for src, _ in matches])
    offsets = [0]
    for t in targets:
        offsets.append(offsets[-1] + len(t.labels))
    target_idx = torch.cat(
        [tgt + offsets[b] for b, (_, tgt) in enumerate(matches)])
    target_classes = torch.full((batch_size, num_queries), num_classes,
                                dtype=torch.int64, device=device)
    target_classes[batch_idx, query_idx] = torch.cat(
        [t.labels[tgt] for t, (_, tgt) in zip(targets, matches)])
    return MatchedPairs(batch_idx, query_idx, target_idx, target_classes)


@MODELS.register_module()
class SetCriterion(nn.Module):
    """Matches every decoder layer to the targets and computes its losses.

    Loss keys follow the official release: ``loss_ce``, ``loss_mask``,
    ``loss_dice`` for the last layer, ``loss_ce_{i}`` ... for auxiliary layer
    ``i`` (``i = 0`` is the first decoder layer). Returned values are weighted
    by each loss module's ``loss_weight``; mmengine sums them.

    Official details kept: the matching is re-run for every layer; mask losses
    are computed at the target resolution on bilinearly upsampled matched
    predictions (exact mode, without keeping full-size intermediates, see
    :func:`upsampled_focal_dice`); ``num_masks`` is averaged over ranks and
    shared by all layers; ignored and padded pixels are negatives in every
    target mask; matching and losses run in float32 under autocast.

    ``num_points`` (opt-in memory-efficient mode, Mask2Former): the focal and
    dice losses are computed on that many points per matched mask instead of
    the full-resolution upsampled masks, chosen by importance sampling
    (``oversample_ratio`` x points drawn, the ``importance_sample_ratio``
    most uncertain kept, the rest uniform); predictions are sampled at
    stride 4, targets at full resolution. Pair it with the assigner's
    ``num_points`` (uniform points for matching).
    """

    def __init__(self, num_classes: int,
                 assigner: Optional[dict] = None,
                 loss_cls: Optional[dict] = None,
                 loss_mask: Optional[dict] = None,
                 loss_dice: Optional[dict] = None,
                 num_points: Optional[int] = None,
                 oversample_ratio: float = 3.0,
                 importance_sample_ratio: float = 0.75) -> None:
        super().__init__()
        self.num_classes = num_classes
        self.num_points = num_points
        self.oversample_ratio = oversample_ratio
        self.importance_sample_ratio = importance_sample_ratio
        self.assigner = build_scoped(
            TASK_UTILS, assigner or dict(type='HungarianAssigner'))
        self.loss_cls = build_scoped(
            MODELS, loss_cls or dict(type='MaskClassificationLoss'),
            num_classes=num_classes)
        self.loss_mask = build_scoped(MODELS,
                                      loss_mask or dict(type='MaskFocalLoss'))
        self.loss_dice = build_scoped(MODELS,
                                      loss_dice or dict(type='MaskDiceLoss'))
        # each key's weight is held by its module
        self.terms = dict(loss_ce=self.loss_cls, loss_mask=self.loss_mask,
                          loss_dice=self.loss_dice)

    def match(self, cls_logits: torch.Tensor, mask_logits: torch.Tensor,
              targets: Sequence[MaskTargets]) -> List[LayerMatches]:
        return self.assigner.assign(cls_logits, mask_logits, targets)

    # ---------------------------------------------------------- mask losses
    def exact_mask_losses(self, pred: torch.Tensor, target_masks,
                          target_idx, num_masks):
        """Full resolution: pred (N, h, w) stride-4 matched logits."""
        focal, dice = upsampled_focal_dice(
            pred, target_masks[target_idx], self.loss_mask.alpha,
            self.loss_mask.gamma)
        return focal / num_masks, dice / num_masks

    def point_mask_losses(self, pred: torch.Tensor, target_masks,
                          target_idx, num_masks):
        """On ``num_points`` importance-sampled points per mask."""
        with torch.no_grad():
            coords = uncertain_point_coords(
                pred.detach(), self.num_points, self.oversample_ratio,
                self.importance_sample_ratio)  # (N, P, 2)
            tgt = point_sample(target_masks[target_idx], coords)  # (N, P)
        pred = point_sample(pred, coords)  # (N, P)
        return (self.loss_mask(pred, tgt, num_masks),
                self.loss_dice(pred, tgt, num_masks))

    def layer_losses(self, cls_logits: torch.Tensor,
                     mask_logits: torch.Tensor,
                     targets: Sequence[MaskTargets],
                     target_masks: torch.Tensor, matches: LayerMatches,
                     num_masks) -> Dict[str, torch.Tensor]:
        """Unweighted losses of one layer.

        cls_logits (B, Q, K+1), mask_logits (B, Q, h, w), target_masks
        (sum M_b, H, W) float: every image's masks stacked.
        """
        pairs = matched_pairs(matches, targets, *cls_logits.shape[:2],
                              self.num_classes, cls_logits.device)
        loss_ce = self.loss_cls(cls_logits, pairs.target_classes)
        if pairs.query_idx.numel() == 0:
            # keep a (zero) gradient path so every parameter takes part
            zero = mask_logits.sum() * 0.0
            return dict(loss_ce=loss_ce, loss_mask=zero, loss_dice=zero)
        pred = mask_logits[pairs.batch_idx, pairs.query_idx].float()
        mode = self.point_mask_losses if self.num_points else \
            self.exact_mask_losses
        loss_mask, loss_dice = mode(pred, target_masks, pairs.target_idx,
                                    num_masks)
        return dict(loss_ce=loss_ce, loss_mask=loss_mask, loss_dice=loss_dice)

    def unweighted_losses(self, cls_logits: torch.Tensor,
                          mask_logits: torch.Tensor,
                          targets: Sequence[MaskTargets],
                          matches: Optional[List[LayerMatches]] = None
                          ) -> Dict[str, torch.Tensor]:
        """All layers' losses, in the official key order (last layer first,
        then auxiliary layers 0..L-2), computed in float32 (also under
        ``--amp``)."""
        with torch.autocast(device_type=cls_logits.device.type,
                            enabled=False):
            return self._unweighted_losses(cls_logits.float(),
                                           mask_logits.float(), targets,
                                           matches)

    def _unweighted_losses(self, cls_logits, mask_logits, targets, matches):
        if matches is None:
            matches = self.match(cls_logits, mask_logits, targets)
        num_masks = num_masks_across_ranks(targets, cls_logits.device)
        target_masks = pad_target_masks(targets, torch.float32)
        num_layers = cls_logits.shape[0]
        losses = {}
        order = [num_layers - 1] + list(range(num_layers - 1))
        for layer in order:
            suffix = '' if layer == num_layers - 1 else f'_{layer}'
            for k, v in self.layer_losses(cls_logits[layer],
                                          mask_logits[layer], targets,
                                          target_masks, matches[layer],
                                          num_masks).items():
                losses[k + suffix] = v
        return losses

    def forward(self, cls_logits: torch.Tensor, mask_logits: torch.Tensor,
                targets: Sequence[MaskTargets]) -> Dict[str, torch.Tensor]:
        """Weighted losses of all layers (what training back-propagates)."""
        unweighted = self.unweighted_losses(cls_logits, mask_logits, targets)
        num_layers = cls_logits.shape[0]
        weighted = {}
        for layer in [num_layers - 1] + list(range(num_layers - 1)):
            suffix = '' if layer == num_layers - 1 else f'_{layer}'
            for key, module in self.terms.items():
                weighted[key + suffix] = unweighted[key + suffix] * \
                    module.loss_weight
        return weighted
