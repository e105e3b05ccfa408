"""Mask2Former's point-sampled matching and set criterion (official
``modeling/matcher.py`` and ``modeling/criterion.py``).

Instead of whole masks, the matching costs and the mask losses are computed
on P points per mask (paper Sec. 3.3 "improving training efficiency"):

* matching: one uniform set of P points per image and prediction,
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

One device-to-host transfer per training step: the criterion draws every
point first (the official draws in the official order and count: they do
not depend on the matching, and the number of matched pairs of an image is
``min(Q, M_b)``, known before solving), then the matcher computes the costs
of all predictions and moves them to the host at once, and the losses of
all predictions are computed from the solved pairs together.

Where the points come from is a parameter (a :class:`PointSampler`): the
default draws them with ``torch.rand`` in the official order and count, so a
run seeded like the official one draws the same points; a sampler that
hands out recorded points replays another run exactly.

Opt-in exact mode (``num_points=None``, also on the matcher): matching on
the stride-4 grid against nearest-downsampled targets (MaskFormer's
matcher, with Mask2Former's BCE cost), and BCE and dice at the targets'
full resolution on the bilinearly upsampled logits, with the memory-lean
:func:`~.mask_losses.upsampled_focal_dice` (gamma 0 without alpha is BCE).

Shapes: L predictions (decoder layers + 1), B images, Q queries, K classes,
M_b targets of image b, M = max_b M_b, N matched pairs (of all predictions
and images), P points, (h, w) the prediction stride-4 size, (H, W) the
padded image size.
"""
from collections import deque
from typing import Dict, List, NamedTuple, Optional, Sequence, Tuple, Union

import numpy as np
import torch
import torch.nn.functional as F
from scipy.optimize import linear_sum_assignment
from torch import nn

from mmmaskformer.registry import MODELS, TASK_UTILS, build_scoped
from mmmaskformer.structures import FlatMatches, LayerMatches, MaskTargets

from .classification_loss import MaskClassificationLoss
from .functional import dice_loss
from .mask_losses import DEFAULT_CHUNK_ELEMENTS, upsampled_focal_dice
from .point_sampling import point_sample, uncertainty
from .set_criterion import (
    losses_by_key,
    num_masks_across_ranks,
    pad_target_masks,
    target_classes_of,
)


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

    logits (..., N, P), targets (..., M, P) soft -> (..., N, M) (leading
    dimensions broadcast); entry (n, m) equals ``sigmoid_ce_loss(logits[n],
    targets[m])`` (official ``batch_sigmoid_ce_loss``: BCE(x, 1) t +
    BCE(x, 0) (1 - t)).
    """
    num_points = logits.shape[-1]
    # torch's BCE(x, t) is (1 - t) x - log_sigmoid(x): BCE(x, 1) =
    # -log_sigmoid(x) and BCE(x, 0) = x - log_sigmoid(x), bit for bit, from
    # one log_sigmoid and one (..., N, P) temporary (the matcher runs this
    # on a chunk of predictions of every image at once, while the forward's
    # activations are alive)
    pos = F.logsigmoid(logits).neg_()  # BCE(x, 1)
    cost = pos @ targets.transpose(-1, -2)
    cost += pos.add_(logits) @ (1 - targets).transpose(-1, -2)  # BCE(x, 0)
    return cost / num_points  # (..., N, M)


def pairwise_dice_cost(logits: torch.Tensor,
                       targets: torch.Tensor) -> torch.Tensor:
    """Dice loss (+1) of every prediction against every target.

    logits (..., N, P), targets (..., M, P) -> (..., N, M) (official
    ``batch_dice_loss``).
    """
    prob = logits.sigmoid()
    numerator = 2 * (prob @ targets.transpose(-1, -2))
    denominator = prob.sum(-1)[..., :, None] + targets.sum(-1)[..., None, :]
    return 1 - (numerator + 1) / (denominator + 1)


def shared_point_sample(maps: torch.Tensor,
                        coords: torch.Tensor) -> torch.Tensor:
    """Bilinear samples of all channels of each map at that map's points.

    maps (N, C, H, W), coords (N, P, 2) (x, y) in [0, 1] -> (N, C, P): what
    :func:`point_sample` gives for every channel as a mask of its own, with
    one ``grid_sample`` and without copying the maps.
    """
    grid = (2.0 * coords[:, :, None, :]).sub_(1.0)  # (N, P, 1, 2), one copy
    return F.grid_sample(maps, grid, align_corners=False)[..., 0]


def point_counts(num_points: int, oversample_ratio: float,
                 importance_sample_ratio: float) -> Tuple[int, int, int]:
    """(S candidates, U most uncertain kept, P - U random) with the official
    ``int()`` truncation."""
    num_sampled = int(num_points * oversample_ratio)
    num_uncertain = int(importance_sample_ratio * num_points)
    return num_sampled, num_uncertain, num_points - num_uncertain


def importance_sampled_coords(mask_logits: torch.Tensor, num_points: int,
                              oversample_ratio: float = 3.0,
                              importance_sample_ratio: float = 0.75,
                              candidate_coords: Optional[torch.Tensor] = None,
                              random_coords: Optional[torch.Tensor] = None,
                              generator: Optional[torch.Generator] = None,
                              official_order: bool = True) -> torch.Tensor:
    """PointRend's ``get_uncertain_point_coords_with_randomness`` with the
    two random draws injectable.

    mask_logits (N, h, w) -> coords (N, P, 2), (x, y) in [0, 1]:
    ``[:, :U]`` the U = int(importance_sample_ratio * P) most uncertain of
    the S = int(oversample_ratio * P) candidates, most uncertain first
    (``topk`` order; in ``topk(sorted=False)``'s order without
    ``official_order``: the same points without sorting them, and a loss
    averages over them), uncertainty
    ``-|logit|`` of each mask at the point; ``[:, U:]`` the P - U
    ``random_coords``. ``candidate_coords`` (N, S, 2) and ``random_coords``
    (N, P - U, 2) default to ``torch.rand`` draws, in that order (the
    official order).
    """
    n = mask_logits.shape[0]
    num_sampled, num_uncertain, num_random = point_counts(
        num_points, oversample_ratio, importance_sample_ratio)
    device = mask_logits.device
    if candidate_coords is None:
        candidate_coords = torch.rand(n, num_sampled, 2, device=device,
                                      generator=generator)
    scores = uncertainty(point_sample(mask_logits, candidate_coords))  # (N, S)
    idx = scores.topk(num_uncertain, dim=1, sorted=official_order)[1]  # (N, U)
    chosen = candidate_coords.gather(1, idx[..., None].expand(-1, -1, 2))
    if num_random > 0:
        if random_coords is None:
            random_coords = torch.rand(n, num_random, 2, device=device,
                                       generator=generator)
        chosen = torch.cat([chosen, random_coords.to(chosen)], 1)
    return chosen  # (N, P, 2)


def sample_matched_targets(target_masks: torch.Tensor,
                           target_idx: torch.Tensor, layer_idx: torch.Tensor,
                           coords: torch.Tensor,
                           num_layers: int) -> torch.Tensor:
    """``point_sample(target_masks[target_idx], coords)`` without gathering
    full-size masks.

    target_masks (M, H, W) float, per pair target_idx and layer_idx (N,),
    coords (N, P, 2) -> (N, P). A target is matched at most once per
    layer, so the points of all its pairs fit in one (L, P) grid row of its
    own mask: one ``grid_sample`` over the masks as they are, instead of an
    (N, H, W) copy (N is every layer's pairs: the official criterion
    gathers one layer's at a time). Slots of layers where a target is
    unmatched sample (0, 0) and are never read.
    """
    grid = coords.new_zeros(len(target_masks), num_layers, *coords.shape[1:])
    grid[target_idx, layer_idx] = coords  # (M, L, P, 2)
    sampled = F.grid_sample(target_masks[:, None], grid.mul_(2.0).sub_(1.0),
                            align_corners=False)  # (M, 1, L, P)
    return sampled[target_idx, 0, layer_idx]


# ------------------------------------------------------------ point sources
class PointSampler:
    """Where the points come from: uniform draws for matching and importance
    sampling for the losses, in the official order and count
    (``torch.rand(1, P, 2)`` per image and matcher call; then ``torch.rand(N,
    S, 2)`` and ``torch.rand(N, P - U, 2)`` per loss call).

    The criterion asks for everything in the official order before it
    matches: per prediction, :meth:`matching_points` per image, then
    :meth:`reserve_loss_points` (this sampler draws the loss call's two
    tensors there); after matching it calls :meth:`loss_points` per
    prediction in the same order, which uses the reserved draws. Of the
    (N, S, 2) candidates only the generator state before them is kept
    (on CPU and CUDA): :meth:`loss_points` draws them again from it, so
    that the candidates of every prediction (10 x N x 3P x 2 floats) are not
    all alive at once while the matching runs. The U most uncertain
    candidates are kept in ``topk(sorted=False)`` order (see
    :func:`importance_sampled_coords`).

    Subclass it (or duck-type the three methods) to replay recorded points;
    a replaying :meth:`loss_points` may ignore the reservations.
    """

    def __init__(self, generator: Optional[torch.Generator] = None) -> None:
        self.generator = generator
        self._reserved = deque()

    def _generator_of(self, device: torch.device
                      ) -> Optional[torch.Generator]:
        """The generator the draws on ``device`` come from (None: one whose
        state this sampler does not read)."""
        if self.generator is not None:
            return self.generator
        if device.type == 'cpu':
            return torch.default_generator
        if device.type == 'cuda':
            index = torch.cuda.current_device() if device.index is None \
                else device.index
            return torch.cuda.default_generators[index]
        return None

    def matching_points(self, num_points: int,
                        device: torch.device) -> torch.Tensor:
        """(P, 2) uniform points shared by one image's queries and targets
        (the values of the official ``torch.rand(1, P, 2)``)."""
        return torch.rand(num_points, 2, device=device,
                          generator=self.generator)

    def reserve_loss_points(self, num_masks: int, num_points: int,
                            oversample_ratio: float,
                            importance_sample_ratio: float,
                            device: torch.device) -> None:
        """Draw now, in the official order, what the next
        :meth:`loss_points` call (for ``num_masks`` masks) will use: the
        (N, S, 2) candidates, then the (N, P - U, 2) random points."""
        num_sampled, _, num_random = point_counts(
            num_points, oversample_ratio, importance_sample_ratio)
        generator = self._generator_of(torch.device(device))
        state = None if generator is None else generator.get_state()
        candidates = torch.rand(num_masks, num_sampled, 2, device=device,
                                generator=self.generator)
        if state is not None:  # drawn again from `state` by loss_points
            candidates = None
        random = torch.rand(num_masks, num_random, 2, device=device,
                            generator=self.generator) if num_random else None
        self._reserved.append((num_masks, state, candidates, random))

    def loss_points(self, mask_logits: torch.Tensor, num_points: int,
                    oversample_ratio: float,
                    importance_sample_ratio: float) -> torch.Tensor:
        """(N, P, 2) importance-sampled points of the matched masks
        (N, h, w), from the oldest reservation (drawn now without one)."""
        candidates = random = None
        if self._reserved:
            num_masks, state, candidates, random = self._reserved.popleft()
            if num_masks != len(mask_logits):
                raise ValueError(
                    f'PointSampler: {num_masks} masks reserved, '
                    f'loss_points called with {len(mask_logits)}')
            if state is not None:
                generator = torch.Generator(device=mask_logits.device)
                generator.set_state(state)
                candidates = torch.rand(
                    num_masks, point_counts(num_points, oversample_ratio,
                                            importance_sample_ratio)[0], 2,
                    device=mask_logits.device, generator=generator)
        return importance_sampled_coords(
            mask_logits, num_points, oversample_ratio,
            importance_sample_ratio, candidates, random,
            generator=self.generator, official_order=False)


# ------------------------------------------------------------ matcher
class PointMatchCosts(NamedTuple):
    """Matching costs of one image and prediction, each (Q, M_b)."""
    cost_class: torch.Tensor  # -softmax(cls)[:, label]
    cost_mask: torch.Tensor  # mean BCE on the points
    cost_dice: torch.Tensor  # dice (+1) on the points
    total: torch.Tensor  # what the assignment minimises
    point_coords: Optional[torch.Tensor]  # (P, 2) the image's points


class PointCosts(NamedTuple):
    """Matching costs of every prediction and image, each (L, B, Q, M);
    image b's columns from ``counts[b]`` on are padding."""
    cost_class: torch.Tensor
    cost_mask: torch.Tensor
    cost_dice: torch.Tensor
    total: torch.Tensor
    point_coords: Optional[torch.Tensor]  # (L, B, P, 2); None on the grid
    counts: List[int]  # M_b

    def of(self, p: int, b: int) -> PointMatchCosts:
        """Prediction p's costs of image b, without the padding."""
        m = self.counts[b]
        return PointMatchCosts(
            *(c[p, b, :, :m] for c in self[:4]),
            None if self.point_coords is None else self.point_coords[p, b])


def pad_labels(labels: Sequence[torch.Tensor], device) -> torch.Tensor:
    """Per image (M_b,) -> (B, M) int64, padded with class 0."""
    table = torch.zeros(len(labels), max(map(len, labels), default=0),
                        dtype=torch.int64, device=device)
    for b, lab in enumerate(labels):
        if len(lab):
            table[b, :len(lab)] = lab
    return table


@TASK_UTILS.register_module()
class PointHungarianMatcher:
    """Hungarian matching on point-sampled mask costs (official
    ``HungarianMatcher``; a distinct name, as upstream packages have a
    ``HungarianAssigner``/``HungarianMatcher`` of their own). Registered in
    ``TASK_UTILS`` as ``mmmaskformer.PointHungarianMatcher``.

    ``C = cost_mask * BCE + cost_class * (-p(label)) + cost_dice * dice``,
    solved per prediction and image with
    ``scipy.optimize.linear_sum_assignment``; the costs of all predictions
    and images reach the host in one transfer (:meth:`assign`). The mask
    costs are float32 whatever the autocast context. An image without
    targets matches nothing (its points are drawn all the same, as
    officially, so that the random stream stays aligned).

    ``num_points=None`` (opt-in exact matching): the mask costs are
    computed on every pixel of the stride-4 predictions against
    nearest-downsampled targets (MaskFormer's matcher) instead of on points.
    """

    def __init__(self, cost_class: float = 2.0, cost_mask: float = 5.0,
                 cost_dice: float = 5.0,
                 num_points: Optional[int] = 12544,
                 chunk_elements: int = DEFAULT_CHUNK_ELEMENTS) -> None:
        self.cost_class = cost_class
        self.cost_mask = cost_mask
        self.cost_dice = cost_dice
        self.num_points = num_points
        self.chunk_elements = chunk_elements

    def _target_points(self, target_masks, counts, coords, size):
        """(c, B, M, P) targets at the points of c predictions (coords
        (c, B, P, 2)), or (1, B, M, h*w) on the grid; zero padding."""
        m = max(counts)
        if coords is None:
            out = target_masks[0].new_zeros(1, len(counts), m,
                                            size[0] * size[1])
        else:
            out = coords.new_zeros(coords.shape[0], len(counts), m,
                                   coords.shape[2])
        for b, masks in enumerate(target_masks):
            if not counts[b]:
                continue
            if coords is None:  # MaskFormer's matcher: nearest
                out[0, b, :counts[b]] = F.interpolate(
                    masks[:, None].float(), size=size,
                    mode='nearest').flatten(1)
            else:  # one grid_sample: the masks as channels, all points
                out[:, b, :counts[b]] = shared_point_sample(
                    masks[None].float(),
                    coords[:, b].reshape(1, -1, 2)).view(
                        counts[b], coords.shape[0], -1).transpose(0, 1)
        return out

    @torch.no_grad()
    def cost_matrices(self, cls_logits: torch.Tensor,
                      mask_logits: torch.Tensor,
                      labels: Sequence[torch.Tensor],
                      target_masks: Sequence[torch.Tensor],
                      coords: Optional[torch.Tensor]) -> PointCosts:
        """cls_logits (L, B, Q, K+1), mask_logits (L, B, Q, h, w); per image
        the target labels (M_b,) and float masks (M_b, H, W); coords (L, B,
        P, 2) the points of every prediction and image (None with
        ``num_points=None``) -> :class:`PointCosts`.

        All images at once (targets zero-padded to M), predictions in
        chunks of about ``chunk_elements`` sampled logits, so that the
        temporaries stay as small as the official per-image ones.
        """
        num_layers, batch_size, num_queries = cls_logits.shape[:3]
        counts = [len(lab) for lab in labels]
        device = cls_logits.device
        with torch.autocast(device_type=device.type, enabled=False):
            prob = cls_logits.float().softmax(-1)  # (L, B, Q, K+1)
            index = pad_labels(labels, device)[None, :, None].expand(
                num_layers, -1, num_queries, -1)
            cost_class = -prob.gather(3, index)  # (L, B, Q, M)
            cost_mask = torch.zeros_like(cost_class)
            cost_dice = torch.zeros_like(cost_class)
            if max(counts, default=0):
                size = mask_logits.shape[-2:]
                grid_targets = None if coords is not None else \
                    self._target_points(target_masks, counts, None, size)
                num_samples = batch_size * num_queries * (
                    size[0] * size[1] if coords is None else coords.shape[2])
                step = max(1, self.chunk_elements // num_samples)
                for start in range(0, num_layers, step):
                    part = slice(start, start + step)
                    logits = mask_logits[part].float()  # (c, B, Q, h, w)
                    if coords is None:
                        pred, tgt = logits.flatten(-2), grid_targets
                    else:
                        c = len(logits)
                        pred = shared_point_sample(
                            logits.flatten(0, 1),
                            coords[part].flatten(0, 1)).view(
                                c, batch_size, num_queries, -1)
                        tgt = self._target_points(target_masks, counts,
                                                  coords[part], size)
                    cost_mask[part] = pairwise_sigmoid_ce_cost(pred, tgt)
                    cost_dice[part] = pairwise_dice_cost(pred, tgt)
            total = self.cost_mask * cost_mask + \
                self.cost_class * cost_class + self.cost_dice * cost_dice
        return PointCosts(cost_class, cost_mask, cost_dice, total, coords,
                          counts)

    @staticmethod
    def solve(costs: PointCosts) -> np.ndarray:
        """(5, N) int64 host table of the pairs: prediction, image, query,
        target within the image, target among all images' targets;
        grouped by prediction then image, queries ascending. The costs
        reach the host in one transfer (the step's one sync)."""
        host = costs.total.cpu().numpy()  # (L, B, Q, M)
        offsets = np.cumsum([0] + costs.counts)
        rows = [np.zeros((5, 0), np.int64)]
        for p in range(host.shape[0]):
            for b, m in enumerate(costs.counts):
                if m == 0:
                    continue
                cost = host[p, b, :, :m]
                if not np.isfinite(cost).all():
                    # diverged predictions: match anyway, the non-finite
                    # loss reaches the optimizer wrapper's guard
                    cost = np.nan_to_num(cost, nan=1e8, posinf=1e8,
                                         neginf=-1e8)
                src, tgt = linear_sum_assignment(cost)
                rows.append(np.stack([np.full_like(src, p),
                                      np.full_like(src, b), src, tgt,
                                      tgt + offsets[b]]).astype(np.int64))
        return np.concatenate(rows, axis=1)

    @torch.no_grad()
    def assign(self, cls_logits: torch.Tensor, mask_logits: torch.Tensor,
               labels: Sequence[torch.Tensor],
               target_masks: Sequence[torch.Tensor],
               coords: Optional[torch.Tensor] = None
               ) -> Tuple[FlatMatches, PointCosts]:
        """Match every prediction of every image (see
        :meth:`cost_matrices`) -> the pairs (``target_idx`` among all
        images' targets, grouped by prediction then image, queries
        ascending) on the inputs' device, and the costs. One
        device-to-host transfer, one non-blocking transfer back."""
        costs = self.cost_matrices(cls_logits, mask_logits, labels,
                                   target_masks, coords)
        table = torch.from_numpy(self.solve(costs)[[0, 1, 2, 4]])
        matches = FlatMatches(*table.to(cls_logits.device,
                                        non_blocking=True))
        return matches, costs

    def match(self, cls_logits: torch.Tensor, mask_logits: torch.Tensor,
              labels: Sequence[torch.Tensor],
              target_masks: Sequence[torch.Tensor],
              sampler: Optional[PointSampler] = None
              ) -> Tuple[LayerMatches, List[PointMatchCosts]]:
        """One prediction: cls_logits (B, Q, K+1), mask_logits (B, Q, h, w)
        -> per image (query_idx, target_idx) and :class:`PointMatchCosts`,
        the points drawn image by image from ``sampler``."""
        device = cls_logits.device
        coords = None
        if self.num_points:
            sampler = sampler or PointSampler()
            coords = torch.stack([
                sampler.matching_points(self.num_points, device)
                for _ in labels])[None]
        costs = self.cost_matrices(cls_logits[None], mask_logits[None],
                                   labels, target_masks, coords)
        table = self.solve(costs)
        matches = [tuple(torch.from_numpy(table[i][table[1] == b]).to(device)
                         for i in (2, 3)) for b in range(len(labels))]
        return matches, [costs.of(0, b) for b in range(len(labels))]


# ------------------------------------------------------------ criterion
class PointLossRecord(NamedTuple):
    """What one prediction's losses were computed from (the point fields
    are None in exact mode)."""
    matches: LayerMatches
    costs: List[PointMatchCosts]
    batch_idx: torch.Tensor  # (N,) image of each matched pair
    query_idx: torch.Tensor  # (N,)
    target_idx: torch.Tensor  # (N,) target within its image
    point_coords: Optional[torch.Tensor]  # (N, P, 2)
    point_logits: Optional[torch.Tensor]  # (N, P)
    point_labels: Optional[torch.Tensor]  # (N, P)


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

    The sampler is asked for every point in the official order first
    (predictions in the order of the loss keys; per prediction, the
    matching points of each image, then the loss points' draws), then all
    predictions are matched with one device-to-host transfer, then the
    losses of all predictions are computed together; so the default
    :class:`PointSampler` consumes the random stream as the official code
    does, and a step syncs once.

    ``num_points=None`` (opt-in exact losses): BCE and dice of every
    matched mask at the targets' full (padded) resolution, on the stride-4
    logits upsampled bilinearly (the official upsampling), computed by
    :func:`~.mask_losses.upsampled_focal_dice` (focal with gamma 0 and
    without alpha is BCE) without keeping full-size intermediates. The
    matching follows its matcher's own ``num_points`` (None: the stride-4
    grid); the matcher built by default takes the criterion's.

    Registered as ``mmmaskformer.Mask2FormerCriterion`` (the default
    criterion of :class:`~mmmaskformer.models.heads.Mask2FormerHead`).
    ``matcher`` is a :class:`PointHungarianMatcher`, a config of one
    (``TASK_UTILS``), or None: then built from the three loss weights and
    ``num_points``, the official ``MaskFormer.from_config`` (matching costs
    equal the loss weights).
    """

    def __init__(self, num_classes: int, class_weight: float = 2.0,
                 mask_weight: float = 5.0, dice_weight: float = 5.0,
                 no_object_weight: float = 0.1,
                 num_points: Optional[int] = 12544,
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

    def draw_points(self, sampler: PointSampler, num_predictions: int,
                    batch_size: int, num_matched: int,
                    device: torch.device) -> Optional[torch.Tensor]:
        """Everything random, in the official order (see the class
        docstring) -> the matching points (L, B, P, 2), or None when the
        matcher works on the grid. The loss points' draws stay reserved in
        the sampler for :meth:`PointSampler.loss_points`."""
        points = [None] * (num_predictions * batch_size)
        matcher_points = self.matcher.num_points
        for p, _ in loss_keys(num_predictions):
            if matcher_points:
                for b in range(batch_size):
                    points[p * batch_size + b] = sampler.matching_points(
                        matcher_points, device)
            if self.num_points:
                sampler.reserve_loss_points(
                    num_matched, self.num_points, self.oversample_ratio,
                    self.importance_sample_ratio, device)
        if not matcher_points:
            return None
        return torch.stack(points).view(num_predictions, batch_size,
                                        matcher_points, 2)

    def _loss_points(self, sampler, pred, num_predictions):
        """(N, P, 2): each prediction's matched masks' points from the
        sampler, called in the official order (pairs grouped by
        prediction, ``len(pred) / L`` each)."""
        n = len(pred) // num_predictions
        points = [None] * num_predictions
        for p, _ in loss_keys(num_predictions):
            points[p] = sampler.loss_points(
                pred[p * n:(p + 1) * n], self.num_points,
                self.oversample_ratio, self.importance_sample_ratio)
        return torch.cat(points) if num_predictions > 1 else points[0]

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
        num_predictions, batch_size, num_queries = cls_logits.shape[:3]
        device = cls_logits.device
        with torch.autocast(device_type=device.type, enabled=False):
            cls_logits, mask_logits = cls_logits.float(), mask_logits.float()
            num_masks = num_masks_across_ranks(targets, device)
            counts = [len(t.labels) for t in targets]
            masks = pad_target_masks(targets, torch.float32).to(device)
            labels = [t.labels.to(device) for t in targets]
            # pairs per prediction: linear_sum_assignment on (Q, M_b)
            num_matched = sum(min(num_queries, m) for m in counts)
            coords = self.draw_points(sampler, num_predictions, batch_size,
                                      num_matched, device)
            matches, costs = self.matcher.assign(
                cls_logits, mask_logits, labels, masks.split(counts), coords)
            loss_ce = self.loss_cls(cls_logits, target_classes_of(
                matches, targets, num_predictions, batch_size, num_queries,
                self.num_classes, device))  # (L,)
            pred = mask_logits[matches.layer_idx, matches.batch_idx,
                               matches.query_idx]  # (N, h, w)
            point_coords = point_logits = point_labels = None
            if self.num_points:
                with torch.no_grad():
                    point_coords = self._loss_points(
                        sampler, pred.detach(), num_predictions)
                    point_labels = sample_matched_targets(
                        masks, matches.target_idx, matches.layer_idx,
                        point_coords, num_predictions) if len(pred) else \
                        point_coords.new_zeros(0, self.num_points)
                point_logits = point_sample(pred, point_coords)  # (N, P)
                bce = sigmoid_ce_loss(point_logits, point_labels)
                dice = dice_loss(point_logits, point_labels)
            elif len(pred):
                bce, dice = upsampled_focal_dice(
                    pred, masks, alpha=-1, gamma=0, index=matches.target_idx)
            else:
                bce = dice = pred.new_zeros(0)
            zero = mask_logits.new_zeros(num_predictions)
            if not len(pred):  # a zero that keeps every parameter in the graph
                zero = zero + mask_logits.sum() * 0.0
            per_prediction = dict(
                loss_ce=loss_ce,
                loss_mask=zero.index_add(0, matches.layer_idx, bce) /
                num_masks,
                loss_dice=zero.index_add(0, matches.layer_idx, dice) /
                num_masks)
        if records is not None:
            records.extend(self._records(matches, costs, counts, point_coords,
                                         point_logits, point_labels))
        return losses_by_key(per_prediction)

    @staticmethod
    def _records(matches, costs, counts, point_coords, point_logits,
                 point_labels) -> List[PointLossRecord]:
        """One :class:`PointLossRecord` per prediction, official order."""
        num_predictions = costs.total.shape[0]
        num_queries = costs.total.shape[2]
        per_image = [min(num_queries, m) for m in counts]
        offsets = np.cumsum([0] + counts)
        n = sum(per_image)
        target_in_image = matches.target_idx - torch.as_tensor(
            offsets[:-1], device=matches.target_idx.device)[matches.batch_idx]
        out = []
        for p, _ in loss_keys(num_predictions):
            part = slice(p * n, (p + 1) * n)
            bounds = np.cumsum([p * n] + per_image)
            image_matches = [
                (matches.query_idx[bounds[b]:bounds[b + 1]],
                 target_in_image[bounds[b]:bounds[b + 1]])
                for b in range(len(counts))]
            out.append(PointLossRecord(
                image_matches, [costs.of(p, b) for b in range(len(counts))],
                matches.batch_idx[part], matches.query_idx[part],
                target_in_image[part],
                *(None if x is None else x[part]
                  for x in (point_coords, point_logits, point_labels))))
        return out

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
