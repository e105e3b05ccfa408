"""Mask2FormerCriterion and PointHungarianMatcher against brute-force
references: one device-to-host sync per training step, the official random
stream drawn up front, batched costs equal to per-pair costs, the
gather-free target sampling, and the opt-in exact mode (full-resolution BCE
and dice, values and gradients)."""
import os.path as osp
import sys

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from mmengine.registry import init_default_scope
from scipy.optimize import linear_sum_assignment

import mmmaskformer  # noqa: F401
from mmmaskformer.models.losses.mask2former_points import (
    Mask2FormerCriterion,
    PointHungarianMatcher,
    PointSampler,
    loss_keys,
    sample_matched_targets,
)
from mmmaskformer.models.losses.point_sampling import point_sample
from mmmaskformer.models.losses.upsampled_focal_dice_function import UpsampledFocalDiceFunction
from mmmaskformer.registry import MODELS
from mmmaskformer.structures import MaskTargets

REPO = osp.dirname(osp.dirname(osp.dirname(osp.dirname(
    osp.abspath(__file__)))))
sys.path.insert(0, osp.join(REPO, 'tools', 'analysis'))
from step_measures import OpCounter  # noqa: E402

NUM_LAYERS = 3  # -> 4 predictions


def random_targets(counts, size, seed=0):
    """Per image ``counts[b]`` random rectangles (bool masks, size x size)
    with random labels in [0, 3)."""
    g = torch.Generator().manual_seed(seed)
    out = []
    for m in counts:
        masks = torch.zeros(m, size, size, dtype=torch.bool)
        for i in range(m):
            y0, x0 = torch.randint(0, size // 2, (2, ), generator=g).tolist()
            y1, x1 = torch.randint(size // 2 + 1, size + 1, (2, ),
                                   generator=g).tolist()
            masks[i, y0:y1, x0:x1] = True
        out.append(MaskTargets(torch.randint(0, 3, (m, ), generator=g),
                               masks))
    return out


def logits(num_predictions=4, batch=2, queries=5, classes=3, size=8,
           seed=0):
    g = torch.Generator().manual_seed(seed)
    return (torch.randn(num_predictions, batch, queries, classes + 1,
                        generator=g),
            torch.randn(num_predictions, batch, queries, size, size,
                        generator=g) * 3)


def padded_float_masks(targets):
    return [t.masks.float() for t in targets]


# ------------------------------------------------------------ one sync
def tiny_head(in_channels, num_points=64):
    init_default_scope('mmmaskformer')
    torch.manual_seed(0)
    return MODELS.build(dict(
        type='mmmaskformer.Mask2FormerHead', num_classes=3,
        in_channels=in_channels,
        pixel_decoder=dict(type='mmmaskformer.MSDeformAttnPixelDecoder',
                           conv_dim=32, mask_dim=16, num_encoder_layers=1,
                           num_heads=2, dim_feedforward=32),
        transformer_decoder=dict(
            type='mmmaskformer.MultiScaleMaskedTransformerDecoder',
            hidden_dim=32, num_queries=5, num_heads=2, dim_feedforward=32,
            num_layers=NUM_LAYERS),
        criterion=dict(type='mmmaskformer.Mask2FormerCriterion',
                       num_points=num_points,
                       matcher=None if num_points else dict(
                           type='mmmaskformer.PointHungarianMatcher',
                           num_points=None))))


@pytest.mark.parametrize('num_points', [64, None], ids=['points', 'exact'])
def test_one_device_to_host_sync_per_training_step(feats, in_channels,
                                                   num_points):
    """Pixel decoder, decoder, matching of all 4 predictions, losses and
    backward: one transfer to the host (the costs), nothing else that syncs
    (no .item(), .tolist(), nonzero, boolean indexing). The first step at a
    size also reads the level sizes once, to make the reference points."""
    head = tiny_head(in_channels, num_points).train()
    x = [f.requires_grad_() for f in feats()]
    targets = random_targets([2, 3], 32)

    def step():
        out = head(x)
        losses = head.criterion(out.cls_logits, out.mask_logits, targets)
        sum(losses.values()).backward()

    for expected in (2, 1):
        counter = OpCounter()
        with counter:
            step()
        assert counter.summary()['syncs'] == {'other': {'d2h': expected}}
    assert all(f.grad.abs().sum() > 0 for f in x)


# ------------------------------------------------------------ the stream
def test_points_are_the_official_draws_in_the_official_order():
    """The criterion draws everything before it matches, in the official
    order: per prediction (last first, then 0, 1, ...), torch.rand(1, P, 2)
    per image, then torch.rand(N, 3P, 2) candidates and torch.rand(N, P -
    0.75P, 2) with N = sum_b min(Q, M_b) (here 7 targets, 5 queries: the
    second image matches only 5 of its 6)."""
    num_points = 16
    criterion = Mask2FormerCriterion(num_classes=3, num_points=num_points)
    cls, masks = logits()
    targets = random_targets([1, 6], 32)
    records = []
    criterion.unweighted_losses(cls, masks, targets, PointSampler(
        torch.Generator().manual_seed(7)), records)
    g = torch.Generator().manual_seed(7)
    n = 1 + 5
    order = [p for p, _ in loss_keys(4)]
    assert order == [3, 0, 1, 2]
    for p, record in zip(order, records):
        for b in range(2):
            assert torch.equal(record.costs[b].point_coords,
                               torch.rand(1, num_points, 2, generator=g)[0])
        candidates = torch.rand(n, 3 * num_points, 2, generator=g)
        random = torch.rand(n, num_points - 12, 2, generator=g)
        assert len(record.point_coords) == n
        assert torch.equal(record.point_coords[:, 12:], random)
        # the 12 most uncertain candidates of each matched mask (as a set:
        # the sampler keeps topk(sorted=False)'s order)
        pred = masks[p][record.batch_idx, record.query_idx]
        score = -point_sample(pred, candidates).abs()
        best = candidates.gather(1, score.topk(12, 1)[1][..., None].expand(
            -1, -1, 2))
        for ours, ref in zip(record.point_coords[:, :12], best):
            assert sorted(map(tuple, ours.tolist())) == sorted(
                map(tuple, ref.tolist()))


def test_seeded_global_stream_is_consumed_as_officially():
    """The default sampler (torch's global generator): after the call the
    generator is exactly where the official per-prediction draws leave it."""
    criterion = Mask2FormerCriterion(num_classes=3, num_points=16)
    cls, masks = logits()
    targets = random_targets([2, 0], 32)  # an image without targets
    torch.manual_seed(3)
    criterion.unweighted_losses(cls, masks, targets)
    after = torch.rand(3)
    torch.manual_seed(3)
    for _ in range(4):
        torch.rand(1, 16, 2), torch.rand(1, 16, 2)
        torch.rand(2, 48, 2), torch.rand(2, 4, 2)
    assert torch.equal(torch.rand(3), after)


# ------------------------------------------------------------ matching
def brute_force_costs(cls, masks, labels, target_masks, coords, weights):
    """Per pair, with the official formulas: -softmax, mean BCE, dice."""
    q, m = masks.shape[0], len(labels)
    pred = point_sample(masks, coords)  # (Q, P)
    tgt = point_sample(target_masks, coords)  # (M, P)
    prob = cls.softmax(-1)
    out = torch.zeros(q, m, dtype=torch.float64)
    for i in range(q):
        for j in range(m):
            bce = F.binary_cross_entropy_with_logits(pred[i], tgt[j])
            s = pred[i].sigmoid()
            dice = 1 - (2 * (s * tgt[j]).sum() + 1) / (s.sum() + tgt[j].sum()
                                                      + 1)
            out[i, j] = weights[0] * -prob[i, labels[j]] + \
                weights[1] * bce + weights[2] * dice
    return out


def test_batched_costs_equal_per_pair_costs_and_scipy():
    """All predictions and images at once (targets padded to the largest
    count, predictions in chunks) against per-pair costs; an image without
    targets and an image with more targets than queries."""
    cls, masks = logits()
    targets = random_targets([7, 0], 32, seed=1)
    labels = [t.labels for t in targets]
    target_masks = padded_float_masks(targets)
    coords = torch.rand(4, 2, 20, 2, generator=torch.Generator().manual_seed(2))
    # a chunk of 2 predictions at a time
    matcher = PointHungarianMatcher(2.0, 5.0, 5.0, num_points=20,
                                    chunk_elements=2 * 2 * 5 * 20)
    matches, costs = matcher.assign(cls, masks, labels, target_masks, coords)
    rows = []
    for p in range(4):
        ref = brute_force_costs(cls[p, 0], masks[p, 0], labels[0],
                                target_masks[0], coords[p, 0], (2, 5, 5))
        np.testing.assert_allclose(costs.of(p, 0).total, ref, rtol=1e-5,
                                   atol=1e-5)
        assert costs.of(p, 1).total.shape == (5, 0)
        src, tgt = linear_sum_assignment(ref.numpy())
        rows += [(p, 0, s, t) for s, t in zip(src, tgt)]
    assert len(rows) == 4 * 5  # min(Q, M) per prediction
    assert list(zip(*(x.tolist() for x in matches))) == rows


def test_sample_matched_targets_is_the_gather():
    g = torch.Generator().manual_seed(0)
    target_masks = (torch.rand(4, 16, 16, generator=g) > 0.5).float()
    target_idx = torch.tensor([2, 0, 3, 0, 1, 2])
    layer_idx = torch.tensor([0, 0, 0, 1, 1, 1])
    coords = torch.rand(6, 10, 2, generator=g)
    ours = sample_matched_targets(target_masks, target_idx, layer_idx,
                                  coords, 2)
    assert torch.equal(ours, point_sample(target_masks[target_idx], coords))


# ------------------------------------------------------------ exact mode
def brute_force_bce_dice(pred, target):
    """F.interpolate to the target size, then plain BCE (mean) and dice."""
    up = F.interpolate(pred[None, None], size=target.shape, mode='bilinear',
                       align_corners=False)[0, 0]
    bce = F.binary_cross_entropy_with_logits(up, target)
    s = up.sigmoid()
    dice = 1 - (2 * (s * target).sum() + 1) / (s.sum() + target.sum() + 1)
    return bce, dice


def test_upsampled_bce_dice_values_and_gradients():
    """gamma 0 without alpha: BCE; saturated logits (|x| = 40) give finite
    gradients (the focal (1 - p_t)^(gamma - 1) term is never formed)."""
    g = torch.Generator().manual_seed(0)
    pred = torch.randn(5, 6, 6, generator=g, dtype=torch.float64) * 4
    pred[0, 0, 0], pred[1, :2] = 40.0, -40.0
    pred.requires_grad_()
    masks = (torch.rand(3, 24, 24, generator=g) > 0.5).double()
    index = torch.tensor([0, 2, 1, 0, 2])
    weights = torch.rand(5, generator=g, dtype=torch.float64)
    bce, dice = UpsampledFocalDiceFunction.apply(pred, masks, index, -1.0,
                                                 0.0, 24 * 24 * 2)
    (bce @ weights + 3 * dice @ weights).backward()
    ours = pred.grad.clone()
    pred.grad = None
    ref = [brute_force_bce_dice(pred[n], masks[index[n]]) for n in range(5)]
    ref_bce = torch.stack([r[0] for r in ref])
    ref_dice = torch.stack([r[1] for r in ref])
    torch.testing.assert_close(bce, ref_bce.detach(), rtol=1e-10, atol=0)
    torch.testing.assert_close(dice, ref_dice.detach(), rtol=1e-10, atol=0)
    (ref_bce @ weights + 3 * ref_dice @ weights).backward()
    assert torch.isfinite(ours).all()
    torch.testing.assert_close(ours, pred.grad, rtol=1e-9, atol=1e-12)


def test_exact_criterion_against_brute_force():
    """num_points=None: the matcher's grid costs (stride-4 logits against
    nearest-downsampled targets) and the losses at full resolution, values
    and gradients, against plain torch per prediction."""
    criterion = Mask2FormerCriterion(num_classes=3, num_points=None)
    assert criterion.matcher.num_points is None
    cls, masks = logits(seed=4)
    cls.requires_grad_()
    masks.requires_grad_()
    targets = random_targets([3, 1], 32, seed=5)
    losses = criterion.unweighted_losses(cls, masks, targets)
    sum(losses.values()).backward()
    grads = cls.grad.clone(), masks.grad.clone()
    cls.grad = masks.grad = None
    num_masks = 4.0
    ref = {}
    for p, suffix in loss_keys(4):
        bce = dice = 0
        target_classes = torch.full((2, 5), 3)
        for b, t in enumerate(targets):
            small = F.interpolate(t.masks[:, None].float(), size=(8, 8),
                                  mode='nearest')[:, 0]
            prob = cls[p, b].detach().softmax(-1)
            c = torch.zeros(5, len(t.labels))
            for i in range(5):
                for j in range(len(t.labels)):
                    x, y = masks[p, b, i].detach().flatten(), small[j].flatten()
                    s = x.sigmoid()
                    c[i, j] = -2 * prob[i, t.labels[j]] + \
                        5 * F.binary_cross_entropy_with_logits(x, y) + \
                        5 * (1 - (2 * (s * y).sum() + 1) /
                             (s.sum() + y.sum() + 1))
            src, tgt = linear_sum_assignment(c.numpy())
            target_classes[b, src] = t.labels[tgt]
            for i, j in zip(src, tgt):
                a, d = brute_force_bce_dice(masks[p, b, i],
                                            t.masks[j].float())
                bce, dice = bce + a, dice + d
        weight = torch.tensor([1.0, 1.0, 1.0, 0.1])
        ref['loss_ce' + suffix] = F.cross_entropy(cls[p].transpose(1, 2),
                                                  target_classes, weight)
        ref['loss_mask' + suffix] = bce / num_masks
        ref['loss_dice' + suffix] = dice / num_masks
    assert list(losses) == list(ref)
    for k in ref:
        torch.testing.assert_close(losses[k], ref[k], rtol=1e-5, atol=1e-7,
                                   msg=k)
    sum(ref.values()).backward()
    torch.testing.assert_close(grads[0], cls.grad, rtol=1e-4, atol=1e-7)
    torch.testing.assert_close(grads[1], masks.grad, rtol=1e-4, atol=1e-7)


def test_tiny_config_with_exact_losses_trains_one_step(repo):
    """The semantic demo config with the one switch (criterion and matcher
    num_points=None): one optimizer step, finite losses that change the
    weights."""
    from mmengine.config import Config
    from mmengine.optim import build_optim_wrapper
    from mmengine.structures import PixelData
    from mmseg.structures import SegDataSample
    cfg = Config.fromfile(osp.join(repo, 'configs',
                                   'mask2former_r18-tiny_synthetic-64x64.py'))
    criterion = cfg.model.decode_head.criterion
    criterion.num_points = criterion.matcher.num_points = None
    init_default_scope(cfg.default_scope)
    torch.manual_seed(0)
    model = MODELS.build(cfg.model).train()
    assert model.decode_head.criterion.num_points is None
    optim = build_optim_wrapper(model, cfg.optim_wrapper)
    g = torch.Generator().manual_seed(0)
    samples = []
    for _ in range(2):
        gt = torch.randint(0, 6, (1, 1, 4, 4), generator=g)
        gt = F.interpolate(gt.float(), size=(64, 64)).long()[0]
        s = SegDataSample(metainfo=dict(img_shape=(64, 64),
                                        ori_shape=(64, 64),
                                        pad_shape=(64, 64)))
        s.gt_sem_seg = PixelData(data=gt)
        samples.append(s)
    data = dict(inputs=[torch.randint(0, 256, (3, 64, 64),
                                      generator=g).byte()
                        for _ in range(2)], data_samples=samples)
    before = {k: v.clone() for k, v in model.state_dict().items()}
    log = model.train_step(data, optim)
    assert log['decode.loss_mask'] > 0 and log['decode.loss_dice'] > 0
    assert all(torch.isfinite(v) for v in log.values())
    head = [k for k in before if k.startswith('decode_head.transformer')]
    changed = [k for k in head
               if not torch.equal(before[k], model.state_dict()[k])]
    assert changed and len(changed) > len(head) // 2
