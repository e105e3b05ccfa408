"""The MaskFormer set criterion: matching, then classification + focal +
dice losses on the matched pairs of every decoder layer."""
from typing import Dict, List, NamedTuple, Optional, Sequence

import torch
import torch.distributed as dist
import torch.nn.functional as F
from torch import nn

from mmmaskformer.registry import MODELS, TASK_UTILS, build_scoped
from mmmaskformer.structures import FlatMatches, LayerMatches, MaskTargets
from .functional import dice_loss, sigmoid_focal_loss
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


def flat_matches(matches: List[LayerMatches],
                 targets: Sequence[MaskTargets]) -> FlatMatches:
    """Per-layer, per-image matches -> flat indices over all layers (target
    indices among all images' targets)."""
    offsets = [0]
    for t in targets:
        offsets.append(offsets[-1] + len(t.labels))
    rows = [[], [], [], []]
    for layer, layer_matches in enumerate(matches):
        for b, (src, tgt) in enumerate(layer_matches):
            rows[0].append(torch.full_like(src, layer))
            rows[1].append(torch.full_like(src, b))
            rows[2].append(src)
            rows[3].append(tgt + offsets[b])
    return FlatMatches(*(torch.cat(r) for r in rows))


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
            TASK_UTILS, assigner or dict(type='MaskFormerHungarianAssigner'))
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
              targets: Sequence[MaskTargets]):
        """``FlatMatches`` from assigners that offer them (one transfer, no
        per-image bookkeeping on the device), else per-layer lists."""
        if hasattr(self.assigner, 'assign_flat'):
            return self.assigner.assign_flat(cls_logits, mask_logits,
                                             targets)
        return self.assigner.assign(cls_logits, mask_logits, targets)

    # ---------------------------------------------------------- mask losses
    def exact_mask_losses(self, pred: torch.Tensor, target_masks,
                          target_idx):
        """Per-mask losses at full resolution; pred (N, h, w) stride 4."""
        return upsampled_focal_dice(pred, target_masks, self.loss_mask.alpha,
                                    self.loss_mask.gamma, index=target_idx)

    def point_mask_losses(self, pred: torch.Tensor, target_masks,
                          target_idx):
        """Per-mask losses on ``num_points`` importance-sampled points."""
        with torch.no_grad():
            coords = uncertain_point_coords(
                pred.detach(), self.num_points, self.oversample_ratio,
                self.importance_sample_ratio)  # (N, P, 2)
            tgt = point_sample(target_masks[target_idx], coords)  # (N, P)
        pred = point_sample(pred, coords)  # (N, P)
        return (sigmoid_focal_loss(pred, tgt, self.loss_mask.alpha,
                                   self.loss_mask.gamma),
                dice_loss(pred, tgt))

    def all_layer_losses(self, cls_logits: torch.Tensor,
                         mask_logits: torch.Tensor,
                         targets: Sequence[MaskTargets],
                         target_masks: torch.Tensor, matches,
                         num_masks) -> Dict[str, torch.Tensor]:
        """Unweighted losses of every layer, computed for all layers at once.

        cls_logits (L, B, Q, K+1), mask_logits (L, B, Q, h, w),
        target_masks (sum M_b, H, W) float, matches: ``FlatMatches`` or
        per-layer lists -> (L,) tensors ``loss_ce``, ``loss_mask``,
        ``loss_dice``. The class loss is each layer's class-weighted mean
        over its B*Q queries; the mask losses are each layer's sums over its
        matched masks / ``num_masks``.
        """
        num_layers, batch_size, num_queries = cls_logits.shape[:3]
        pairs = matches if isinstance(matches, FlatMatches) else \
            flat_matches(matches, targets)
        loss_ce = self.loss_cls(cls_logits, target_classes_of(
            pairs, targets, num_layers, batch_size, num_queries,
            self.num_classes, cls_logits.device))  # (L,)
        zero = mask_logits.new_zeros(num_layers)
        if pairs.query_idx.numel() == 0:
            # keep a (zero) gradient path so every parameter takes part
            zero = zero + mask_logits.sum() * 0.0
            return dict(loss_ce=loss_ce, loss_mask=zero, loss_dice=zero)
        pred = mask_logits[pairs.layer_idx, pairs.batch_idx, pairs.query_idx]
        mode = self.point_mask_losses if self.num_points else \
            self.exact_mask_losses
        focal, dice = mode(pred, target_masks, pairs.target_idx)
        loss_mask = zero.index_add(0, pairs.layer_idx, focal) / num_masks
        loss_dice = zero.index_add(0, pairs.layer_idx, dice) / num_masks
        return dict(loss_ce=loss_ce, loss_mask=loss_mask, loss_dice=loss_dice)

    def layer_losses(self, cls_logits: torch.Tensor,
                     mask_logits: torch.Tensor,
                     targets: Sequence[MaskTargets],
                     target_masks: torch.Tensor, matches: LayerMatches,
                     num_masks) -> Dict[str, torch.Tensor]:
        """Unweighted losses of one layer (cls_logits (B, Q, K+1),
        mask_logits (B, Q, h, w))."""
        losses = self.all_layer_losses(cls_logits[None], mask_logits[None],
                                       targets, target_masks, [matches],
                                       num_masks)
        return {k: v[0] for k, v in losses.items()}

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

    def _per_layer_losses(self, cls_logits, mask_logits, targets, matches):
        if matches is None:
            matches = self.match(cls_logits, mask_logits, targets)
        num_masks = num_masks_across_ranks(targets, cls_logits.device)
        target_masks = pad_target_masks(targets, torch.float32)
        return self.all_layer_losses(cls_logits, mask_logits, targets,
                                     target_masks, matches, num_masks)

    @staticmethod
    def _by_key(per_layer: Dict[str, torch.Tensor]) -> Dict[str, torch.Tensor]:
        """(L,) vectors -> the official keys, last layer first."""
        num_layers = len(next(iter(per_layer.values())))
        unbound = {k: v.unbind(0) for k, v in per_layer.items()}  # 1 op each
        losses = {}
        for layer in [num_layers - 1] + list(range(num_layers - 1)):
            suffix = '' if layer == num_layers - 1 else f'_{layer}'
            for key, values in unbound.items():
                losses[key + suffix] = values[layer]
        return losses

    def _unweighted_losses(self, cls_logits, mask_logits, targets, matches):
        return self._by_key(self._per_layer_losses(cls_logits, mask_logits,
                                                   targets, matches))

    def forward(self, cls_logits: torch.Tensor, mask_logits: torch.Tensor,
                targets: Sequence[MaskTargets]) -> Dict[str, torch.Tensor]:
        """Weighted losses of all layers (what training back-propagates)."""
        with torch.autocast(device_type=cls_logits.device.type,
                            enabled=False):
            per_layer = self._per_layer_losses(
                cls_logits.float(), mask_logits.float(), targets, None)
        return self._by_key({k: v * self.terms[k].loss_weight
                             for k, v in per_layer.items()})
