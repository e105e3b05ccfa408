"""The MaskFormer set criterion: classification + focal + dice on matched pairs."""
from typing import Dict, List, Optional, Sequence

import torch
import torch.distributed as dist
import torch.nn.functional as F
from torch import nn

from mmmaskformer.registry import MODELS, TASK_UTILS, build_scoped
from mmmaskformer.structures import LayerMatches, MaskTargets
from .functional import dice_loss, sigmoid_focal_loss
from .point_sampling import point_sample, uncertain_point_coords


def num_masks_across_ranks(targets: Sequence[MaskTargets],
                           device: torch.device) -> float:
    """Number of target masks, averaged over ranks, at least 1 (official)."""
    num = torch.tensor(float(sum(len(t.labels) for t in targets)),
                       device=device)
    if dist.is_available() and dist.is_initialized():
        dist.all_reduce(num)
        num = num / dist.get_world_size()
    return max(num.item(), 1.0)


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


@MODELS.register_module()
class FocalLoss(nn.Module):
    """Sigmoid focal loss on matched masks, summed over masks / ``num_masks``."""

    def __init__(self, alpha: float = 0.25, gamma: float = 2.0,
                 loss_weight: float = 20.0) -> None:
        super().__init__()
        self.alpha, self.gamma, self.loss_weight = alpha, gamma, loss_weight

    def forward(self, logits: torch.Tensor, targets: torch.Tensor,
                num_masks: float) -> torch.Tensor:
        """logits, targets: (N, P)."""
        return sigmoid_focal_loss(logits, targets, self.alpha,
                                  self.gamma).sum() / num_masks


@MODELS.register_module()
class DiceLoss(nn.Module):
    """Dice loss (+1 smoothing) on matched masks, summed / ``num_masks``."""

    def __init__(self, loss_weight: float = 1.0) -> None:
        super().__init__()
        self.loss_weight = loss_weight

    def forward(self, logits: torch.Tensor, targets: torch.Tensor,
                num_masks: float) -> torch.Tensor:
        return dice_loss(logits, targets).sum() / num_masks


@MODELS.register_module()
class MaskClassificationLoss(nn.Module):
    """Cross-entropy over K+1 classes with a down-weighted no-object class.

    The class-weighted mean over all B*Q queries (PyTorch's weighted mean),
    so the no-object weight enters the denominator too; not divided by
    ``num_masks`` (official ``loss_labels``).
    """

    def __init__(self, num_classes: int, no_object_weight: float = 0.1,
                 loss_weight: float = 1.0) -> None:
        super().__init__()
        self.num_classes = num_classes
        self.loss_weight = loss_weight
        weight = torch.ones(num_classes + 1)
        weight[-1] = no_object_weight
        self.register_buffer('class_weight', weight, persistent=False)

    def forward(self, cls_logits: torch.Tensor,
                target_classes: torch.Tensor) -> torch.Tensor:
        """cls_logits (B, Q, K+1), target_classes (B, Q) int64."""
        return F.cross_entropy(
            cls_logits.float().transpose(1, 2), target_classes,
            self.class_weight.to(cls_logits.device))


@MODELS.register_module()
class SetCriterion(nn.Module):
    """Matches every decoder layer to the targets and computes its losses.

    Loss keys follow the official release: ``loss_ce``, ``loss_mask``,
    ``loss_dice`` for the last layer, ``loss_ce_{i}`` ... for auxiliary layer
    ``i`` (``i = 0`` is the first decoder layer). Returned values are weighted
    by each loss' ``loss_weight``; mmengine sums them.

    Official details kept: the matching is re-run for every layer; mask losses
    are computed at the target resolution on bilinearly upsampled matched
    predictions; ``num_masks`` is averaged over ranks and shared by all
    layers; ignored and padded pixels are negatives in every target mask.

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
                                      loss_mask or dict(type='FocalLoss'))
        self.loss_dice = build_scoped(MODELS,
                                      loss_dice or dict(type='DiceLoss'))

    def match(self, cls_logits: torch.Tensor, mask_logits: torch.Tensor,
              targets: Sequence[MaskTargets]) -> List[LayerMatches]:
        return self.assigner.assign(cls_logits, mask_logits, targets)

    def layer_losses(self, cls_logits: torch.Tensor,
                     mask_logits: torch.Tensor,
                     targets: Sequence[MaskTargets],
                     target_masks: torch.Tensor, matches: LayerMatches,
                     num_masks: float) -> Dict[str, torch.Tensor]:
        """Unweighted losses of one layer.

        cls_logits (B, Q, K+1), mask_logits (B, Q, h, w), target_masks
        (sum M_b, H, W) float: every image's masks stacked.
        """
        batch_size, num_queries = cls_logits.shape[:2]
        device = cls_logits.device
        batch_idx = torch.cat([
            torch.full_like(src, b) for b, (src, _) in enumerate(matches)
        ])
        src_idx = torch.cat([src for src, _ in matches])
        offsets = [0]
        for t in targets:
            offsets.append(offsets[-1] + len(t.labels))
        tgt_idx = torch.cat(
            [tgt + offsets[b] for b, (_, tgt) in enumerate(matches)])

        target_classes = torch.full((batch_size, num_queries),
                                    self.num_classes, dtype=torch.int64,
                                    device=device)
        target_classes[batch_idx, src_idx] = torch.cat(
            [t.labels[tgt] for t, (_, tgt) in zip(targets, matches)])
        loss_ce = self.loss_cls(cls_logits, target_classes)

        if src_idx.numel() == 0:
            # keep a (zero) gradient path so every parameter takes part
            zero = mask_logits.sum() * 0.0
            return dict(loss_ce=loss_ce, loss_mask=zero, loss_dice=zero)
        pred = mask_logits[batch_idx, src_idx].float()  # (N, h, w)
        if self.num_points:
            with torch.no_grad():
                coords = uncertain_point_coords(
                    pred.detach(), self.num_points, self.oversample_ratio,
                    self.importance_sample_ratio)  # (N, P, 2)
                tgt = point_sample(target_masks[tgt_idx], coords)  # (N, P)
            pred = point_sample(pred, coords)  # (N, P)
        else:
            pred = F.interpolate(pred[:, None], size=target_masks.shape[-2:],
                                 mode='bilinear', align_corners=False)
            pred = pred[:, 0].flatten(1)  # (N, H*W)
            tgt = target_masks[tgt_idx].flatten(1)  # (N, H*W)
        return dict(
            loss_ce=loss_ce,
            loss_mask=self.loss_mask(pred, tgt, num_masks),
            loss_dice=self.loss_dice(pred, tgt, num_masks))

    def unweighted_losses(self, cls_logits: torch.Tensor,
                          mask_logits: torch.Tensor,
                          targets: Sequence[MaskTargets],
                          matches: Optional[List[LayerMatches]] = None
                          ) -> Dict[str, torch.Tensor]:
        """All layers' losses, in the official key order (last layer first,
        then auxiliary layers 0..L-2), computed in float32 (also under
        ``--amp``)."""
        # matching and losses in float32 whatever the autocast context
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

    def loss_weight(self, key: str) -> float:
        name = key.split('_')[1]  # loss_{ce,mask,dice}[_i]
        return {'ce': self.loss_cls, 'mask': self.loss_mask,
                'dice': self.loss_dice}[name].loss_weight

    def forward(self, cls_logits: torch.Tensor, mask_logits: torch.Tensor,
                targets: Sequence[MaskTargets]) -> Dict[str, torch.Tensor]:
        """Weighted losses of all layers (what training back-propagates)."""
        losses = self.unweighted_losses(cls_logits, mask_logits, targets)
        return {k: v * self.loss_weight(k) for k, v in losses.items()}
