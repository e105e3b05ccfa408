"""Mask2Former's point-sampled matching and set criterion (official
``modeling/matcher.py`` and ``modeling/criterion.py``).

Instead of whole masks, the matching costs and the mask losses are computed
on P points per mask (paper Sec. 3.3 "improving training efficiency"):

* matching: one uniform set of P points per image and decoder layer,
  shared by every query and target of the image; costs
  ``class_weight * -p(label) + mask_weight * BCE + dice_weight * dice``;
* losses: per matched mask, ``oversample_ratio * P`` uniform candidates, the
  ``importance_sample_ratio * P`` most uncertain of them (``-|logit|`` of
  that mask) and uniform points for the rest; mean BCE and dice (+1) per
  mask, summed over masks and divided by ``num_masks``; cross-entropy over
  all queries with the no-object class down-weighted.

Prediction logits are sampled at stride 4, targets at full (padded)
resolution, both bilinearly (``grid_sample``, align_corners False), so
targets are soft at mask boundaries.

Where the points come from is a parameter (a :class:`PointSampler`): the
default draws them with ``torch.rand`` in the official order and count, so a
run seeded like the official one draws the same points; a sampler that
hands out recorded points replays another run exactly.

Shapes: L predictions (decoder layers + 1), B images, Q queries, K classes,
M_b targets of image b, N matched pairs, P points, (h, w) the prediction
stride-4 size, (H, W) the padded image size.
"""
from typing import Dict, List, NamedTuple, Optional, Sequence, Tuple, Union

import numpy as np
import torch
import torch.nn.functional as F
from scipy.optimize import linear_sum_assignment
from torch import nn

from mmmaskformer.registry import MODELS, TASK_UTILS, build_scoped
from mmmaskformer.structures import LayerMatches, MaskTargets

from .classification_loss import MaskClassificationLoss
from .functional import dice_loss, pairwise_dice_cost
from .point_sampling import point_sample, uncertainty
from .set_criterion import num_masks_across_ranks, pad_target_masks


# ------------------------------------------------------------ pure functions
def sigmoid_ce_loss(logits: torch.Tensor,
                    targets: torch.Tensor) -> torch.Tensor:
    """Per-mask binary cross-entropy with logits, mean over points.

    logits, targets (soft, in [0, 1]): (N, P) -> (N,).
    """
    return F.binary_cross_entropy_with_logits(
        logits, targets, reduction='none').mean(1)


def pairwise_sigmoid_ce_cost(logits: torch.Tensor,
                             targets: torch.Tensor) -> torch.Tensor:
    """Mean BCE of every prediction against every target.

    logits (N, P), targets (M, P) soft -> (N, M); entry (n, m) equals
    ``sigmoid_ce_loss(logits[n], targets[m])`` (official
    ``batch_sigmoid_ce_loss``: BCE(x, 1) t + BCE(x, 0) (1 - t)).
    """
    num_points = logits.shape[1]
    pos = F.binary_cross_entropy_with_logits(
        logits, torch.ones_like(logits), reduction='none')
    neg = F.binary_cross_entropy_with_logits(
        logits, torch.zeros_like(logits), reduction='none')
    cost = torch.einsum('np,mp->nm', pos, targets) + torch.einsum(
        'np,mp->nm', neg, 1 - targets)  # (N, M)
    return cost / num_points


def importance_sampled_coords(mask_logits: torch.Tensor, num_points: int,
                              oversample_ratio: float = 3.0,
                              importance_sample_ratio: float = 0.75,
                              candidate_coords: Optional[torch.Tensor] = None,
                              random_coords: Optional[torch.Tensor] = None,
                              generator: Optional[torch.Generator] = None
                              ) -> torch.Tensor:
    """PointRend's ``get_uncertain_point_coords_with_randomness`` with the
    two random draws injectable.

    mask_logits (N, h, w) -> coords (N, P, 2), (x, y) in [0, 1]:
    ``[:, :U]`` the U = int(importance_sample_ratio * P) most uncertain of
    the S = int(oversample_ratio * P) candidates, most uncertain first
    (``topk`` order), uncertainty ``-|logit|`` of each mask at the point;
    ``[:, U:]`` the P - U ``random_coords``. ``candidate_coords`` (N, S, 2)
    and ``random_coords`` (N, P - U, 2) default to ``torch.rand`` draws, in
    that order (the official order).
    """
    n = mask_logits.shape[0]
    num_sampled = int(num_points * oversample_ratio)
    num_uncertain = int(importance_sample_ratio * num_points)
    num_random = num_points - num_uncertain
    device = mask_logits.device
    if candidate_coords is None:
        candidate_coords = torch.rand(n, num_sampled, 2, device=device,
                                      generator=generator)
    scores = uncertainty(point_sample(mask_logits, candidate_coords))  # (N, S)
    idx = scores.topk(num_uncertain, dim=1)[1]  # (N, U)
    chosen = candidate_coords.gather(1, idx[..., None].expand(-1, -1, 2))
    if num_random > 0:
        if random_coords is None:
            random_coords = torch.rand(n, num_random, 2, device=device,
                                       generator=generator)
        chosen = torch.cat([chosen, random_coords.to(chosen)], 1)
    return chosen  # (N, P, 2)


# ------------------------------------------------------------ point sources
class PointSampler:
    """Where the points come from: uniform draws for matching and importance
    sampling for the losses, in the official order and count
    (``torch.rand(1, P, 2)`` per image and matcher call; then ``torch.rand(N,
    S, 2)`` and ``torch.rand(N, P - U, 2)`` per loss call).

    Subclass it (or duck-type both methods) to replay recorded points.
    """

    def __init__(self, generator: Optional[torch.Generator] = None) -> None:
        self.generator = generator

    def matching_points(self, num_points: int,
                        device: torch.device) -> torch.Tensor:
        """(P, 2) uniform points shared by one image's queries and targets."""
        return torch.rand(1, num_points, 2, device=device,
                          generator=self.generator)[0]

    def loss_points(self, mask_logits: torch.Tensor, num_points: int,
                    oversample_ratio: float,
                    importance_sample_ratio: float) -> torch.Tensor:
        """(N, P, 2) importance-sampled points of the matched masks
        (N, h, w)."""
        return importance_sampled_coords(
            mask_logits, num_points, oversample_ratio,
            importance_sample_ratio, generator=self.generator)


# ------------------------------------------------------------ matcher
class PointMatchCosts(NamedTuple):
    """Matching costs of one image and prediction, each (Q, M_b)."""
    cost_class: torch.Tensor  # -softmax(cls)[:, label]
    cost_mask: torch.Tensor  # mean BCE on the points
    cost_dice: torch.Tensor  # dice (+1) on the points
    total: torch.Tensor  # what the assignment minimises
    point_coords: torch.Tensor  # (P, 2) the image's points


@TASK_UTILS.register_module()
class PointHungarianMatcher:
    """Hungarian matching on point-sampled mask costs (official
    ``HungarianMatcher``; a distinct name, as upstream packages have a
    ``HungarianAssigner``/``HungarianMatcher`` of their own). Registered in
    ``TASK_UTILS`` as ``mmmaskformer.PointHungarianMatcher``.

    ``C = cost_mask * BCE + cost_class * (-p(label)) + cost_dice * dice``,
    solved per image with ``scipy.optimize.linear_sum_assignment``. The
    mask costs are float32 whatever the autocast context. An image without
    targets matches nothing (its points are drawn all the same, as
    officially, so that the random stream stays aligned).
    """

    def __init__(self, cost_class: float = 2.0, cost_mask: float = 5.0,
                 cost_dice: float = 5.0, num_points: int = 12544) -> None:
        self.cost_class = cost_class
        self.cost_mask = cost_mask
        self.cost_dice = cost_dice
        self.num_points = num_points

    @torch.no_grad()
    def costs(self, cls_logits: torch.Tensor, mask_logits: torch.Tensor,
              labels: Sequence[torch.Tensor],
              target_masks: Sequence[torch.Tensor],
              sampler: Optional[PointSampler] = None
              ) -> List[PointMatchCosts]:
        """cls_logits (B, Q, K+1), mask_logits (B, Q, h, w); per image the
        target labels (M_b,) and float masks (M_b, H, W) -> per image
        :class:`PointMatchCosts`. Draws the points image by image."""
        sampler = sampler or PointSampler()
        out = []
        with torch.autocast(device_type=cls_logits.device.type,
                            enabled=False):
            for b in range(cls_logits.shape[0]):
                prob = cls_logits[b].float().softmax(-1)  # (Q, K+1)
                cost_class = -prob[:, labels[b]]  # (Q, M)
                coords = sampler.matching_points(self.num_points,
                                                 mask_logits.device)
                tgt = point_sample(target_masks[b], coords)  # (M, P)
                pred = point_sample(mask_logits[b].float(), coords)  # (Q, P)
                cost_mask = pairwise_sigmoid_ce_cost(pred, tgt)
                cost_dice = pairwise_dice_cost(pred, tgt)
                total = self.cost_mask * cost_mask + \
                    self.cost_class * cost_class + self.cost_dice * cost_dice
                out.append(PointMatchCosts(cost_class, cost_mask, cost_dice,
                                           total, coords))
        return out

    @staticmethod
    def solve(costs: Sequence[PointMatchCosts]) -> LayerMatches:
        """Per image (query_idx, target_idx), int64, queries ascending."""
        # one device -> host transfer for all images
        sizes = [c.total.numel() for c in costs]
        flat = torch.cat([c.total.flatten() for c in costs]).cpu().numpy() \
            if costs else np.zeros(0)
        bounds = np.cumsum([0] + sizes)
        matches = []
        for b, c in enumerate(costs):
            cost = flat[bounds[b]:bounds[b + 1]].reshape(c.total.shape)
            if not np.isfinite(cost).all():
                # diverged predictions: match anyway, the non-finite loss
                # reaches the optimizer wrapper's guard
                cost = np.nan_to_num(cost, nan=1e8, posinf=1e8, neginf=-1e8)
            src, tgt = linear_sum_assignment(cost)
            device = c.total.device
            matches.append((torch.as_tensor(src, dtype=torch.int64,
                                            device=device),
                            torch.as_tensor(tgt, dtype=torch.int64,
                                            device=device)))
        return matches

    def match(self, cls_logits: torch.Tensor, mask_logits: torch.Tensor,
              labels: Sequence[torch.Tensor],
              target_masks: Sequence[torch.Tensor],
              sampler: Optional[PointSampler] = None
              ) -> Tuple[LayerMatches, List[PointMatchCosts]]:
        """Matches and costs of one prediction (see :meth:`costs`)."""
        costs = self.costs(cls_logits, mask_logits, labels, target_masks,
                           sampler)
        return self.solve(costs), costs


# ------------------------------------------------------------ criterion
class PointLossRecord(NamedTuple):
    """What one prediction's losses were computed from."""
    matches: LayerMatches
    costs: List[PointMatchCosts]
    batch_idx: torch.Tensor  # (N,) image of each matched pair
    query_idx: torch.Tensor  # (N,)
    target_idx: torch.Tensor  # (N,) target within its image
    point_coords: torch.Tensor  # (N, P, 2)
    point_logits: torch.Tensor  # (N, P)
    point_labels: torch.Tensor  # (N, P)


def loss_keys(num_predictions: int) -> List[Tuple[int, str]]:
    """(prediction index, key suffix) in the official order: the last
    prediction first (no suffix), then ``_0`` (from the query features),
    ``_1`` ... (official ``SetCriterion.forward``)."""
    last = num_predictions - 1
    return [(last, '')] + [(i, f'_{i}') for i in range(last)]


@MODELS.register_module()
class Mask2FormerCriterion(nn.Module):
    """Point-sampled set criterion of Mask2Former (official
    ``SetCriterion`` with ``losses=["labels", "masks"]``).

    Every prediction (the last and each auxiliary one) is matched on its own
    and gives ``loss_ce``, ``loss_mask`` (BCE), ``loss_dice`` (suffix
    ``_i`` for auxiliary prediction i, 0 = from the query features).
    ``num_masks`` (targets of the batch, averaged over ranks, at least 1) is
    computed once and divides every mask loss. ``loss_ce`` is the
    class-weighted mean over all B*Q queries (no-object weight
    ``no_object_weight``), not divided by ``num_masks``. Everything is
    float32, also under autocast.

    Target masks are expected at the padded batch size (as ``MaskTargets``
    say; point coordinates are relative to the mask extent); masks of
    different sizes are zero-padded to the largest.

    Matching and losses run prediction by prediction in the official order,
    so that the default :class:`PointSampler` consumes the random stream as
    the official code does.

    Registered as ``mmmaskformer.Mask2FormerCriterion`` (the default
    criterion of :class:`~mmmaskformer.models.heads.Mask2FormerHead`).
    ``matcher`` is a :class:`PointHungarianMatcher`, a config of one
    (``TASK_UTILS``), or None: then built from the three loss weights and
    ``num_points``, the official ``MaskFormer.from_config`` (matching costs
    equal the loss weights).
    """

    def __init__(self, num_classes: int, class_weight: float = 2.0,
                 mask_weight: float = 5.0, dice_weight: float = 5.0,
                 no_object_weight: float = 0.1, num_points: int = 12544,
                 oversample_ratio: float = 3.0,
                 importance_sample_ratio: float = 0.75,
                 matcher: Union[None, dict, PointHungarianMatcher] = None
                 ) -> None:
        super().__init__()
        self.num_classes = num_classes
        self.num_points = num_points
        self.oversample_ratio = oversample_ratio
        self.importance_sample_ratio = importance_sample_ratio
        if isinstance(matcher, dict):
            matcher = build_scoped(TASK_UTILS, matcher)
        self.matcher = matcher or PointHungarianMatcher(
            class_weight, mask_weight, dice_weight, num_points)
        self.loss_cls = MaskClassificationLoss(num_classes, no_object_weight)
        self.weights = dict(loss_ce=class_weight, loss_mask=mask_weight,
                            loss_dice=dice_weight)

    def prediction_losses(self, cls_logits: torch.Tensor,
                          mask_logits: torch.Tensor,
                          labels: Sequence[torch.Tensor],
                          target_masks: Sequence[torch.Tensor], num_masks,
                          sampler: PointSampler
                          ) -> Tuple[Dict[str, torch.Tensor], PointLossRecord]:
        """Unweighted losses of one prediction: cls_logits (B, Q, K+1),
        mask_logits (B, Q, h, w) float32."""
        matches, costs = self.matcher.match(cls_logits, mask_logits, labels,
                                            target_masks, sampler)
        batch_size, num_queries = cls_logits.shape[:2]
        device = cls_logits.device
        batch_idx = torch.cat([torch.full_like(src, b)
                               for b, (src, _) in enumerate(matches)])
        query_idx = torch.cat([src for src, _ in matches])
        target_idx = torch.cat([tgt for _, tgt in matches])
        target_classes = torch.full((batch_size, num_queries),
                                    self.num_classes, dtype=torch.int64,
                                    device=device)
        target_classes[batch_idx, query_idx] = torch.cat(
            [labels[b][tgt] for b, (_, tgt) in enumerate(matches)])
        loss_ce = self.loss_cls(cls_logits, target_classes)
        pred = mask_logits[batch_idx, query_idx]  # (N, h, w)
        tgt_masks = torch.cat([target_masks[b][tgt]
                               for b, (_, tgt) in enumerate(matches)])
        with torch.no_grad():
            coords = sampler.loss_points(pred.detach(), self.num_points,
                                         self.oversample_ratio,
                                         self.importance_sample_ratio)
            point_labels = point_sample(tgt_masks, coords)  # (N, P)
        point_logits = point_sample(pred, coords)  # (N, P)
        if len(pred):
            loss_mask = sigmoid_ce_loss(point_logits,
                                        point_labels).sum() / num_masks
            loss_dice = dice_loss(point_logits,
                                  point_labels).sum() / num_masks
        else:  # a zero that keeps every parameter in the graph
            loss_mask = loss_dice = mask_logits.sum() * 0.0
        record = PointLossRecord(matches, costs, batch_idx, query_idx,
                                 target_idx, coords, point_logits,
                                 point_labels)
        return dict(loss_ce=loss_ce, loss_mask=loss_mask,
                    loss_dice=loss_dice), record

    def unweighted_losses(self, cls_logits: torch.Tensor,
                          mask_logits: torch.Tensor,
                          targets: Sequence[MaskTargets],
                          sampler: Optional[PointSampler] = None,
                          records: Optional[list] = None
                          ) -> Dict[str, torch.Tensor]:
        """cls_logits (L, B, Q, K+1), mask_logits (L, B, Q, h, w) -> the
        official keys in the official order. ``records``, when a list, gets
        one :class:`PointLossRecord` per prediction in that order."""
        sampler = sampler or PointSampler()
        with torch.autocast(device_type=cls_logits.device.type,
                            enabled=False):
            cls_logits, mask_logits = cls_logits.float(), mask_logits.float()
            device = cls_logits.device
            num_masks = num_masks_across_ranks(targets, device)
            counts = [len(t.labels) for t in targets]
            masks = pad_target_masks(targets, torch.float32).to(device) \
                if targets else None
            target_masks = list(masks.split(counts)) if targets else []
            labels = [t.labels.to(device) for t in targets]
            losses = {}
            for p, suffix in loss_keys(cls_logits.shape[0]):
                terms, record = self.prediction_losses(
                    cls_logits[p], mask_logits[p], labels, target_masks,
                    num_masks, sampler)
                if records is not None:
                    records.append(record)
                for key, value in terms.items():
                    losses[key + suffix] = value
        return losses

    def weight_of(self, key: str) -> float:
        """The weight of a loss key (``loss_mask_3`` -> ``mask_weight``)."""
        return self.weights['_'.join(key.split('_')[:2])]

    def forward(self, cls_logits: torch.Tensor, mask_logits: torch.Tensor,
                targets: Sequence[MaskTargets],
                sampler: Optional[PointSampler] = None
                ) -> Dict[str, torch.Tensor]:
        """Weighted losses (what training back-propagates; mmengine sums
        them)."""
        losses = self.unweighted_losses(cls_logits, mask_logits, targets,
                                        sampler)
        return {k: v * self.weight_of(k) for k, v in losses.items()}
