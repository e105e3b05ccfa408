"""Mask2Former's loss terms, ours against mmdet's, at equal weights, batch
and random points.

Both sides draw their points with ``torch.rand``, in different orders:

* ours (the official order, :class:`~mmmaskformer.models.losses.
  mask2former_points.PointSampler`): before matching, prediction by
  prediction in the order of the loss keys (the last, then 0, 1, ...),
  ``(P, 2)`` matching points per image, then the loss points of its
  matched masks, ``(N, 3P, 2)`` candidates and ``(N, P - 0.75P, 2)``
  uniform ones;
* mmdet (``Mask2FormerHead``): layer 0 (the query features) first, per
  layer ``(1, P, 2)`` per image in ``_get_targets_single``, then the two
  loss draws in ``get_uncertain_point_coords_with_randomness``.

So ours runs with a :class:`RecordingSampler` (given to our criterion as
its ``sampler`` argument by a forward pre-hook: nothing of ours is
patched), which keeps every draw; then mmdet's step runs with ``torch.rand``
replaced, for that call only, by :func:`replayed_rand`, which hands out the
recorded draws in mmdet's order and checks that each requested shape is the
recorded one. mmdet's own code then does its own selection of the most
uncertain candidates, matching and losses on the same points as ours.

Which prediction each recorded draw belongs to follows our criterion's
order (:func:`~mmmaskformer.models.losses.mask2former_points.loss_keys`),
and is checked: the matching points our matcher receives (its ``coords``
argument, per prediction and image) must be the recorded draws in that
order, so a change of our draw order is caught rather than replayed wrong.
"""
import contextlib
from collections import deque
from typing import Dict, List, Sequence

import torch

from mmmaskformer.models.losses.mask2former_points import (
    PointSampler,
    importance_sampled_coords,
    loss_keys,
    point_counts,
)

from .phases import loss_values
from .probes import argument, head_of, probe_of


class RecordingSampler(PointSampler):
    """The default sampler's draws (``torch.rand``, the same order and
    shapes), each kept in ``events``, in call order:
    ``('match', coords (P, 2))`` per :meth:`matching_points` and
    ``('loss', candidates (N, S, 2), uniform (N, P - U, 2))`` per
    :meth:`reserve_loss_points`; :meth:`loss_points` uses the reservations
    first in, first out."""

    def __init__(self) -> None:
        super().__init__()
        self.events: List[tuple] = []
        self.reserved: deque = deque()

    def matching_points(self, num_points: int,
                        device: torch.device) -> torch.Tensor:
        coords = torch.rand(num_points, 2, device=device)
        self.events.append(('match', coords))
        return coords

    def reserve_loss_points(self, num_masks: int, num_points: int,
                            oversample_ratio: float,
                            importance_sample_ratio: float,
                            device: torch.device) -> None:
        num_sampled, _, num_random = point_counts(
            num_points, oversample_ratio, importance_sample_ratio)
        candidates = torch.rand(num_masks, num_sampled, 2, device=device)
        uniform = torch.rand(num_masks, num_random, 2, device=device)
        self.events.append(('loss', candidates, uniform))
        self.reserved.append((candidates, uniform))

    def loss_points(self, mask_logits: torch.Tensor, num_points: int,
                    oversample_ratio: float,
                    importance_sample_ratio: float) -> torch.Tensor:
        candidates, uniform = self.reserved.popleft()
        if len(candidates) != len(mask_logits):
            raise RuntimeError(f'point replay: {len(candidates)} masks '
                               f'reserved, {len(mask_logits)} sampled')
        return importance_sampled_coords(
            mask_logits, num_points, oversample_ratio,
            importance_sample_ratio, candidates, uniform)


@contextlib.contextmanager
def sampler_given(criterion: torch.nn.Module, sampler: PointSampler):
    """Calls of ``criterion`` inside the block get ``sampler=sampler``."""

    def hook(_module, args, kwargs):
        return args, dict(kwargs, sampler=sampler)

    handle = criterion.register_forward_pre_hook(hook, with_kwargs=True)
    try:
        yield sampler
    finally:
        handle.remove()


def draws_by_prediction(events: Sequence[tuple], num_predictions: int,
                        num_images: int) -> Dict[int, tuple]:
    """Our recorded draws -> {prediction: ([matching points per image],
    (candidates, uniform))}, by our criterion's order (per prediction of
    :func:`loss_keys`, the images' matching points, then the loss draws)."""
    kinds = [e[0] for e in events]
    expected = (['match'] * num_images + ['loss']) * num_predictions
    if kinds != expected:
        raise RuntimeError(
            f'point replay: our criterion drew {kinds.count("match")} '
            f'matching and {kinds.count("loss")} loss point sets in another '
            f'order than (per prediction: {num_images} images\' matching '
            'points, then the loss points); update '
            'train_benchmark/point_replay.py')
    out, step = {}, num_images + 1
    for k, (p, _) in enumerate(loss_keys(num_predictions)):
        group = events[k * step:(k + 1) * step]
        out[p] = ([e[1] for e in group[:-1]], group[-1][1:])
    return out


def draws_in_mmdet_order(draws: Dict[int, tuple]) -> List[torch.Tensor]:
    """mmdet's order: prediction 0 first; per prediction the images'
    matching points as ``(1, P, 2)``, then the two loss draws."""
    out = []
    for p in sorted(draws):
        matching, loss = draws[p]
        out += [c[None] for c in matching] + list(loss)
    return out


def check_matching_points(coords: torch.Tensor, draws: Dict[int, tuple]):
    """The points our matcher received (L, B, P, 2) are the recorded ones
    of each prediction and image."""
    for p, (matching, _) in draws.items():
        for b, c in enumerate(matching):
            if not torch.equal(coords[p, b], c):
                raise RuntimeError(
                    f'point replay: prediction {p}, image {b}: our matcher '
                    'received other points than recorded for it')


@contextlib.contextmanager
def replayed_rand(draws: Sequence[torch.Tensor]):
    """``torch.rand`` returns ``draws`` in order inside the block (each
    requested shape must be the next draw's); yields the list of what is
    left, which the caller checks is empty."""
    left = list(draws)
    real = torch.rand

    def rand(*size, **kwargs):
        if len(size) == 1 and isinstance(size[0], (tuple, list, torch.Size)):
            size = tuple(size[0])
        if not left:
            raise RuntimeError(f'point replay: torch.rand{tuple(size)} '
                               'asked for after every recorded draw')
        draw = left.pop(0)
        if tuple(draw.shape) != tuple(size):
            raise RuntimeError(
                f'point replay: torch.rand{tuple(size)} asked for where the '
                f'recorded draw is {tuple(draw.shape)}: the two heads draw '
                'in a different order than train_benchmark/point_replay.py '
                'assumes')
        device = kwargs.get('device')
        return draw.clone() if device is None else draw.to(device,
                                                           copy=True)

    torch.rand = rand
    try:
        yield left
    finally:
        torch.rand = real


def point_loss_key_pairs(ours: Dict[str, float]) -> Dict[str, str]:
    """Our key -> mmdet's: ``loss_ce[_i]`` -> ``[dI.]loss_cls`` (the same
    for ``loss_mask`` and ``loss_dice``)."""
    rename = {'ce': 'cls', 'mask': 'mask', 'dice': 'dice'}
    pairs = {}
    for key in ours:
        parts = key.split('.')[-1].split('_')  # loss, ce, [i]
        name = f'loss_{rename[parts[1]]}'
        pairs[key] = name if len(parts) == 2 else f'd{parts[2]}.{name}'
    return pairs


def _assignments_ours(matches, targets) -> Dict[tuple, list]:
    """Our matcher's pairs (FlatMatches, targets among all images') ->
    {(prediction, image): [(query, target within the image)]}."""
    offsets = [0]
    for t in targets:
        offsets.append(offsets[-1] + len(t.labels))
    out = {}
    for p, b, q, t in zip(*(x.tolist() for x in matches)):
        out.setdefault((p, b), []).append((q, t - offsets[b]))
    return {k: sorted(v) for k, v in out.items()}


def _our_index(theirs: List[int], ours: List[int]) -> List[int]:
    """mmdet's target j -> our target index. Both put the thing instances
    first, in ``gt_instances`` order; the stuff classes (one target each)
    may come in another order, so they are told apart by label."""
    stuff_start = next((i for i in range(min(len(theirs), len(ours)))
                        if theirs[i] != ours[i]), min(len(theirs), len(ours)))
    index = list(range(stuff_start))
    for label in theirs[stuff_start:]:
        if label not in ours[stuff_start:]:
            raise RuntimeError(f'point replay: mmdet\'s targets {theirs} are '
                               f'not ours {ours}')
        index.append(ours.index(label, stuff_start))
    if sorted(index) != list(range(len(ours))):
        raise RuntimeError(f'point replay: mmdet\'s targets {theirs} are '
                           f'not ours {ours}')
    return index


def _assignments_mmdet(calls, targets, num_images) -> Dict[tuple, list]:
    """mmdet's assigner calls (per layer, then per image) ->
    {(prediction, image): [(query, our target index)]}."""
    out = {}
    for call, (args, kwargs, result) in enumerate(calls):
        p, b = divmod(call, num_images)
        labels = argument(args, kwargs, 1, 'gt_instances').labels.tolist()
        index = _our_index(labels, targets[b].labels.tolist())
        gt_inds = result.gt_inds.cpu()
        out[(p, b)] = sorted((q, index[int(gt_inds[q]) - 1]) for q in
                             torch.nonzero(gt_inds > 0)[:, 0].tolist())
    return out


def check_point_losses(pair, data) -> dict:
    """Both sides' weighted loss terms under the same points (dropout off,
    both models in eval mode, which changes nothing else on this path: the
    backbones' BatchNorm is frozen), their differences, and whether the two
    matchers assigned the same (query, target) pairs everywhere."""
    ours_head = head_of(pair.ours)
    ours_probe, base_probe = probe_of(pair.ours), probe_of(pair.baseline)
    targets = []
    hook = ours_head.criterion.register_forward_pre_hook(
        lambda _m, args, kwargs: targets.append(
            argument(args, kwargs, 2, 'targets')), with_kwargs=True)
    recorder = RecordingSampler()
    losses = {}
    try:
        for _, model in pair.items():
            model.eval()
        with torch.no_grad(), ours_probe.recording() as ours_calls, \
                sampler_given(ours_head.criterion, recorder):
            methods = ours_probe.methods
            batch = pair.ours.data_preprocessor(data, training=True)
            losses['ours'] = loss_values(pair.ours(**batch, mode='loss'))
        if methods != ['assign']:
            raise RuntimeError(f'point replay: our criterion called the '
                               f'matcher\'s {methods}, not `assign` once; '
                               'update train_benchmark/point_replay.py')
        args, kwargs, (matches, _costs) = ours_calls[0]
        num_predictions = argument(args, kwargs, 0, 'cls_logits').shape[0]
        num_images = len(data['inputs'])
        draws = draws_by_prediction(recorder.events, num_predictions,
                                    num_images)
        check_matching_points(argument(args, kwargs, 4, 'coords'), draws)
        replay = draws_in_mmdet_order(draws)
        with torch.no_grad(), base_probe.recording() as base_calls, \
                replayed_rand(replay) as left:
            batch = pair.baseline.data_preprocessor(data, training=True)
            losses['baseline'] = loss_values(
                pair.baseline(**batch, mode='loss'))
        if left:
            used = len(replay) - len(left)
            raise RuntimeError(f'point replay: mmdet used {used} of '
                               f'{len(replay)} recorded draws')
        own = _assignments_ours(matches, targets[0])
        theirs = _assignments_mmdet(base_calls, targets[0], num_images)
    finally:
        hook.remove()
        for _, model in pair.items():
            model.train()
    keys = point_loss_key_pairs(losses['ours'])
    base = losses['baseline']
    if sorted(keys.values()) != sorted(base):
        raise RuntimeError(f'point replay: our loss keys {sorted(keys)} do '
                           f'not pair with mmdet\'s {sorted(base)}')
    diffs = {k: abs(v - base[keys[k]]) for k, v in losses['ours'].items()}
    return dict(
        ours=losses['ours'], baseline=base, key_pairs=keys, abs_diff=diffs,
        max_abs_diff=max(diffs.values()),
        max_rel_diff=max(d / max(abs(base[keys[k]]), 1e-12)
                         for k, d in diffs.items()),
        points_replayed=len(replay),
        predictions_images_assigned_differently=sorted(
            [p, b] for p, b in set(own) | set(theirs)
            if own.get((p, b)) != theirs.get((p, b))))
