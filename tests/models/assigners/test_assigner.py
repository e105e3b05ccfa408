"""Hungarian matching against brute force over all assignments."""
import itertools
import math

import pytest
import torch
import torch.nn.functional as F

import mmmaskformer  # noqa: F401
from mmmaskformer.models.assigners import MaskFormerHungarianAssigner
from mmmaskformer.structures import FlatMatches, MaskTargets


def brute_force_cost(cls_logits, mask_logits, target, weights=(1, 20, 1)):
    """Cost matrix from the formulas, one pair at a time, in float64."""
    q = cls_logits.shape[0]
    h, w = mask_logits.shape[-2:]
    tgt = F.interpolate(target.masks[:, None].double(), size=(h, w),
                        mode='nearest')[:, 0]
    prob = cls_logits.double().softmax(-1)
    cost = torch.zeros(q, len(target.labels), dtype=torch.float64)
    for i in range(q):
        p = mask_logits[i].double().sigmoid().flatten()
        x = mask_logits[i].double().flatten()
        for j, label in enumerate(target.labels.tolist()):
            t = tgt[j].flatten()
            ce = F.binary_cross_entropy_with_logits(x, t, reduction='none')
            p_t = p * t + (1 - p) * (1 - t)
            alpha_t = 0.25 * t + 0.75 * (1 - t)
            focal = (alpha_t * (1 - p_t)**2 * ce).mean()
            dice = 1 - (2 * (p * t).sum() + 1) / (p.sum() + t.sum() + 1)
            cost[i, j] = (-weights[0] * prob[i, label] + weights[1] * focal +
                          weights[2] * dice)
    return cost


def best_assignment(cost):
    """Minimum total cost over every injective map targets -> queries."""
    q, m = cost.shape
    best, best_perm = math.inf, None
    for perm in itertools.permutations(range(q), m):
        total = sum(cost[perm[j], j].item() for j in range(m))
        if total < best:
            best, best_perm = total, perm
    return best, best_perm


@pytest.mark.parametrize('seed,num_queries,num_targets',
                         [(0, 4, 3), (1, 5, 2), (2, 6, 4), (3, 3, 3),
                          (4, 2, 4)])
def test_matcher_equals_brute_force(seed, num_queries, num_targets):
    g = torch.Generator().manual_seed(seed)
    num_classes, h, w = 4, 16, 12
    cls_logits = torch.randn(2, 1, num_queries, num_classes + 1, generator=g)
    mask_logits = torch.randn(2, 1, num_queries, h // 4, w // 4,
                              generator=g) * 2
    masks = torch.rand(num_targets, h, w, generator=g) > 0.5
    labels = torch.randint(num_classes, (num_targets, ), generator=g)
    target = MaskTargets(labels, masks)
    assigner = MaskFormerHungarianAssigner()
    costs = assigner.cost_matrices(cls_logits, mask_logits, [target])
    matches = assigner.assign(cls_logits, mask_logits, [target])
    for layer in range(2):
        ref = brute_force_cost(cls_logits[layer, 0], mask_logits[layer, 0],
                               target)
        torch.testing.assert_close(costs[0][layer].double(), ref,
                                   atol=1e-5, rtol=1e-5)
        keep = matches.layer_idx == layer
        assert (matches.batch_idx[keep] == 0).all()
        src, tgt = matches.query_idx[keep], matches.target_idx[keep]
        assert len(src) == min(num_queries, num_targets)
        assert src.tolist() == sorted(src.tolist())  # ascending queries
        got = sum(ref[s, t].item() for s, t in zip(src.tolist(),
                                                   tgt.tolist()))
        if num_targets <= num_queries:
            best, _ = best_assignment(ref)
        else:  # more targets than queries: brute force on the transpose
            best, _ = best_assignment(ref.t())
        assert abs(got - best) < 1e-9


def test_matcher_empty_targets():
    assigner = MaskFormerHungarianAssigner()
    target = MaskTargets(torch.zeros(0, dtype=torch.long),
                         torch.zeros(0, 8, 8, dtype=torch.bool))
    matches = assigner.assign(torch.randn(3, 1, 5, 4),
                              torch.randn(3, 1, 5, 2, 2), [target])
    assert isinstance(matches, FlatMatches)
    for index in matches:
        assert index.dtype == torch.int64 and index.numel() == 0


def test_flat_matches_are_grouped_by_layer_then_image():
    """One FlatMatches for the batch: per (layer, image) the pairs of that
    image matched alone, in that order, target indices offset by the
    targets of the images before it."""
    g = torch.Generator().manual_seed(0)
    counts = [2, 0, 3]
    targets = [MaskTargets(torch.randint(4, (n, ), generator=g),
                           torch.rand(n, 16, 16, generator=g) > 0.5)
               for n in counts]
    cls_logits = torch.randn(2, 3, 4, 5, generator=g)
    mask_logits = torch.randn(2, 3, 4, 4, 4, generator=g) * 2
    assigner = MaskFormerHungarianAssigner()
    matches = assigner.assign(cls_logits, mask_logits, targets)
    expected, offset = {}, [0, 2, 2]
    for b, target in enumerate(targets):
        alone = assigner.assign(cls_logits[:, b:b + 1],
                                mask_logits[:, b:b + 1], [target])
        for layer in range(2):
            keep = alone.layer_idx == layer
            expected[layer, b] = [(q, t + offset[b]) for q, t in zip(
                alone.query_idx[keep].tolist(),
                alone.target_idx[keep].tolist())]
    rows = list(zip(*(index.tolist() for index in matches)))
    assert rows == [(layer, b, q, t) for layer in range(2) for b in range(3)
                    for q, t in expected[layer, b]]
    assert len(rows) == 2 * (2 + 0 + 3)
