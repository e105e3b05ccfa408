"""The training-step benchmark (tools/analysis/benchmark_train.py and its
package train_benchmark/): the probe, the phases, the loss-check
bookkeeping, and the documented command run as a fresh process whose
figures are checked against direct counts."""
import json
import os.path as osp
import sys
from types import SimpleNamespace

import pytest
import torch

REPO = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
sys.path.insert(0, osp.join(REPO, 'tools', 'analysis'))
from step_measures import OpCounter  # noqa: E402
from train_benchmark.loss_check import baseline_rows, loss_key_pairs  # noqa: E402
from train_benchmark.phases import HEAD_PHASES, STEP_PHASES, PhaseClock, phase_summary  # noqa: E402
from train_benchmark.probes import MatchingProbe, probe_config  # noqa: E402

from mmmaskformer.structures import MaskTargets  # noqa: E402


def _tiny_matching_inputs():
    g = torch.Generator().manual_seed(0)
    cls_logits = torch.randn(2, 1, 4, 4, generator=g)  # (L, B, Q, K+1)
    mask_logits = torch.randn(2, 1, 4, 8, 8, generator=g)
    masks = torch.zeros(2, 16, 16, dtype=torch.bool)
    masks[0, :8], masks[1, 8:] = True, True
    return cls_logits, mask_logits, [MaskTargets(torch.tensor([1, 2]),
                                                 masks)]


def test_probe_forwards_records_and_books_the_matching_phase():
    cfg = probe_config(dict(type='mmmaskformer.MaskFormerHungarianAssigner'),
                       'ours')
    assert cfg['type'] is MatchingProbe
    probe = MatchingProbe(cfg['assigner'], cfg['registry'])
    inputs = _tiny_matching_inputs()
    direct = probe.assigner.assign(*inputs)
    counter = OpCounter()
    clock = PhaseClock(counter=counter)
    probe.clock = clock
    with counter:
        clock.switch('losses')
        with probe.recording() as calls:
            got = probe.assign(*inputs)
        after = probe.assign(*inputs)  # outside recording: not kept
        clock.switch(None)
    for a, b, c in zip(got, direct, after):
        assert torch.equal(a, b) and torch.equal(c, b)
    assert len(calls) == 1 and calls[0][0] == inputs
    assert probe.calls is None
    # the assigner's ops are booked to 'matching', none to 'losses'
    assert counter.ops['matching'] > 0 and 'losses' not in counter.ops
    assert clock.times['matching'] > 0 and 'losses' in clock.times
    # other attributes are the real assigner's
    assert probe.cost_class == probe.assigner.cost_class == 1.0
    with pytest.raises(ValueError, match='registry'):
        MatchingProbe(cfg['assigner'], 'mmseg')


def test_phase_clock_nesting_resumes_the_outer_phase():
    counter = OpCounter()
    clock = PhaseClock(counter=counter)
    x = torch.ones(3)
    with counter:
        clock.switch('a')
        x = x + 1
        with clock.nested('b'):
            x = x * 2
            x = x * 2
        x = x - 1  # back in 'a'
        clock.switch(None)
    assert counter.ops == {'a': 2, 'b': 2}
    assert set(clock.times) == {'a', 'b'}
    summary = phase_summary(dict(data=1.0, backbone=2.0, targets=0.5,
                                 matching=0.25, losses=4.0,
                                 head_backward=8.0, optimizer=16.0,
                                 logging=99.0))
    assert summary['total'] == 31.75  # logging excluded
    assert summary['head_matching_losses_forward'] == 4.75
    assert summary['head_matching_losses'] == 12.75
    assert summary['backward'] == 8.0


def test_loss_keys_and_the_baseline_assignment_as_our_rows():
    keys = ['decode.loss_ce', 'decode.loss_mask', 'decode.loss_dice',
            'decode.loss_ce_0', 'decode.loss_dice_4']
    assert loss_key_pairs(dict.fromkeys(keys, 0.0)) == {
        'decode.loss_ce': 'decode.loss_cls',
        'decode.loss_mask': 'decode.loss_mask',
        'decode.loss_dice': 'decode.loss_dice',
        'decode.loss_ce_0': 'decode.d0.loss_cls',
        'decode.loss_dice_4': 'decode.d4.loss_dice'}
    # two images (our labels [3, 7] and [5]), two layers; mmdet's calls are
    # per layer then per image, its gt_inds 1-based over ITS label order
    targets = [SimpleNamespace(labels=torch.tensor([3, 7])),
               SimpleNamespace(labels=torch.tensor([5]))]

    def call(labels, gt_inds):
        gt = SimpleNamespace(labels=torch.tensor(labels))
        return ((), dict(gt_instances=gt),
                SimpleNamespace(gt_inds=torch.tensor(gt_inds)))

    calls = [call([7, 3], [0, 2, 1]),  # layer 0, image 0
             call([5], [1, 0, 0]),  # layer 0, image 1
             call([7, 3], [1, 0, 2]),  # layer 1, image 0
             call([5], [0, 0, 1])]  # layer 1, image 1
    # (layer, image, query, target among both images' targets)
    assert baseline_rows(calls, targets) == [
        (0, 0, 1, 0), (0, 0, 2, 1), (0, 1, 0, 2),
        (1, 0, 0, 1), (1, 0, 2, 0), (1, 1, 2, 2)]


@pytest.mark.slow
def test_benchmark_train_command_reports_equal_losses_and_true_counts(
        tmp_path, run_tool):
    """The documented command, small: the loss terms equal mmseg's, the
    timings add up, and the op counts and memory equal direct counts of a
    step of the same models in this process."""
    from train_benchmark.measures import count_ops
    from train_benchmark.models import build_pair, make_batch
    from train_benchmark.phases import train_step
    out = tmp_path / 'bench.json'
    printed = run_tool(['tools/analysis/benchmark_train.py', '--size', '64',
                        '--iters', '2', '--warmup', '0', '--check-losses',
                        '--out', str(out)])
    res = json.loads(out.read_text())
    assert res['args'] == dict(model='r50', size=64, batch=2, segments=15,
                               iters=2, warmup=0, ours_config=None,
                               check_losses=True)
    assert res['machine']['device'] == 'cpu'

    check = res['loss_check']
    assert len(check['ours']) == len(check['baseline']) == 18
    assert sorted(check['key_pairs'].values()) == sorted(check['baseline'])
    diffs = [abs(v - check['baseline'][check['key_pairs'][k]])
             for k, v in check['ours'].items()]
    assert max(diffs) == check['max_abs_diff'] < 1e-4
    # float32 rounding, not a formula difference: below 1e-6 relative
    assert check['max_rel_diff'] == max(
        abs(v - check['baseline'][check['key_pairs'][k]]) /
        abs(check['baseline'][check['key_pairs'][k]])
        for k, v in check['ours'].items()) < 1e-6
    # at 64x64 the two matchers agree, so forcing theirs changes nothing
    assert check['layers_images_assigned_differently'] == []
    assert check['max_abs_diff_same_assignment'] < 1e-4
    forced = check['ours_under_baseline_assignment']
    assert forced.keys() == check['ours'].keys()
    assert all(abs(forced[k] - v) < 1e-6 for k, v in check['ours'].items())
    assert f"max |diff| = {check['max_abs_diff']:.2e}" in printed

    for side in ('ours', 'baseline'):
        for kind in ('', 'cpu_'):
            rows = res[f'{kind}seconds_per_iteration'][side]
            assert len(rows) == 2
            for row in rows:
                assert row['total'] == pytest.approx(
                    sum(row[p] for p in STEP_PHASES), rel=1e-12)
                assert row['head_matching_losses'] == pytest.approx(
                    sum(row[p] for p in HEAD_PHASES), rel=1e-12)
            med = res[f'median_{kind}seconds'][side]
            assert med['total'] == pytest.approx(
                (rows[0]['total'] + rows[1]['total']) / 2, rel=1e-12)
        # every phase was entered (wall clock: strictly positive)
        assert all(row[p] > 0 for p in STEP_PHASES
                   for row in res['seconds_per_iteration'][side])
    for kind in ('', 'cpu_'):
        med = res[f'median_{kind}seconds']
        assert res[f'{kind}speedup_baseline_over_ours']['losses'] == \
            pytest.approx(med['baseline']['losses'] / med['ours']['losses'])

    # direct counts: the same models and batch, one plain step each
    pair = build_pair('r50', 64)
    data = make_batch(2, 64, 15)
    for side, model in pair.items():
        m = res['measures'][side]
        ops = m['ops_by_phase']
        assert all(ops.get(p, 0) > 0 for p in HEAD_PHASES + ('backbone', ))
        assert m['ops_head_matching_losses'] == sum(ops[p]
                                                    for p in HEAD_PHASES)
        assert m['ops_step'] == sum(n for p, n in ops.items()
                                    if p != 'logging')
        optimizer = torch.optim.AdamW(model.parameters(), lr=1e-4)
        train_step(model, optimizer, data, PhaseClock())  # states exist
        plain = OpCounter()
        with plain:  # no phases, no hooks: every op of the step
            batch = model.data_preprocessor(data, training=True)
            losses = model(**batch, mode='loss')
            loss = sum(v for k, v in losses.items() if 'loss' in k)
            optimizer.zero_grad()
            loss.backward()
            torch.nn.utils.clip_grad_norm_(model.parameters(), 0.01)
            optimizer.step()
            [float(v.detach()) for v in losses.values()]
        assert sum(plain.ops.values()) == sum(ops.values())
        assert count_ops(model, optimizer, data).ops == ops
        memory = m['peak_memory_mib_by_kind']
        params = sum(p.untyped_storage().nbytes() for p in model.parameters())
        assert memory['Parameter'] * 2**20 == params
        state = sum(t.untyped_storage().nbytes()
                    for s in optimizer.state.values() for t in s.values()
                    if torch.is_tensor(t))
        assert memory['Optstate'] * 2**20 == state
    ours, base = res['measures']['ours'], res['measures']['baseline']
    # one device-to-host copy (the cost matrices) in our head phases
    assert ours['syncs_head_matching_losses'] == {'d2h': 1}
    assert sum(base['syncs_head_matching_losses'].values()) > 1
    assert res['measure_ratios_ours_over_baseline']['ops_step'] == \
        pytest.approx(ours['ops_step'] / base['ops_step'])


# ------------------------------------------------ Mask2Former against mmdet's
def test_point_replay_reorders_our_draws_into_mmdets_order():
    from train_benchmark.point_replay import (
        RecordingSampler,
        check_matching_points,
        draws_by_prediction,
        draws_in_mmdet_order,
        point_loss_key_pairs,
        replayed_rand,
    )

    from mmmaskformer.models.losses.point_sampling import point_sample
    sampler = RecordingSampler()
    # our criterion's order for 3 predictions: 2 (the last), 0, 1; per
    # prediction two images' matching points, then the loss points' draws
    for _ in range(3):
        sampler.matching_points(8, 'cpu')
        sampler.matching_points(8, 'cpu')
        sampler.reserve_loss_points(3, 8, 3.0, 0.75, 'cpu')  # 3 masks
    events = sampler.events
    assert [e[0] for e in events] == ['match', 'match', 'loss'] * 3
    assert events[0][1].shape == (8, 2)
    assert events[2][1].shape == (3, 24, 2) and events[2][2].shape == (3, 2, 2)
    # the loss points use the reservations in order: the 6 most uncertain
    # (-|logit|) of the 24 recorded candidates, then the 2 recorded uniform
    mask_logits = torch.randn(3, 4, 4)
    coords = sampler.loss_points(mask_logits, 8, 3.0, 0.75)
    cand, uniform = events[2][1:]
    top = (-point_sample(mask_logits, cand).abs()).topk(6, dim=1)[1]
    assert torch.equal(coords[:, :6], cand.gather(
        1, top[..., None].expand(-1, -1, 2)))
    assert torch.equal(coords[:, 6:], uniform)
    assert len(sampler.reserved) == 2
    with pytest.raises(RuntimeError, match='3 masks reserved, 2 sampled'):
        sampler.loss_points(mask_logits[:2], 8, 3.0, 0.75)

    draws = draws_by_prediction(events, num_predictions=3, num_images=2)
    assert draws[2][0][1] is events[1][1] and draws[0][0][0] is events[3][1]
    assert draws[1][1][1] is events[8][2]
    with pytest.raises(RuntimeError, match='another order'):
        draws_by_prediction(events, num_predictions=2, num_images=3)
    # what our matcher received, checked against the record
    coords = torch.stack([torch.stack(draws[p][0]) for p in range(3)])
    check_matching_points(coords, draws)
    with pytest.raises(RuntimeError, match='prediction 2, image 0'):
        check_matching_points(coords.flip(1), draws)
    replay = draws_in_mmdet_order(draws)
    # mmdet: prediction 0 (our second group) first, matching points (1, P, 2)
    expect = [events[3][1], events[4][1], *events[5][1:],
              events[6][1], events[7][1], *events[8][1:],
              events[0][1], events[1][1], *events[2][1:]]
    assert len(replay) == 12
    assert all(torch.equal(a, b.view(a.shape)) for a, b in zip(replay, expect))
    assert replay[0].shape == (1, 8, 2)
    # torch.rand hands them out in order, checking each shape
    with replayed_rand(replay[:3]) as left:
        assert torch.equal(torch.rand((1, 8, 2)), replay[0])
        assert torch.equal(torch.rand(1, 8, 2, device='cpu'), replay[1])
        with pytest.raises(RuntimeError, match=r'torch.rand\(3, 2, 2\)'):
            torch.rand(3, 2, 2)  # the next draw is (3, 24, 2)
        assert left == []
    assert torch.rand(2).shape == (2, )  # restored
    assert point_loss_key_pairs(dict.fromkeys(
        ['loss_ce', 'loss_dice', 'loss_mask_0', 'loss_ce_8'])) == {
            'loss_ce': 'loss_cls', 'loss_dice': 'loss_dice',
            'loss_mask_0': 'd0.loss_mask', 'loss_ce_8': 'd8.loss_cls'}


def test_probe_books_and_records_any_matcher_method():
    cfg = probe_config(dict(type='mmmaskformer.PointHungarianMatcher',
                            num_points=16), 'ours')
    probe = MatchingProbe(cfg['assigner'], cfg['registry'])
    cls_logits, mask_logits, targets = _tiny_matching_inputs()
    labels = [t.labels for t in targets]
    masks = [t.masks.float() for t in targets]
    coords = torch.rand(2, 1, 16, 2, generator=torch.Generator().manual_seed(0))
    direct = probe.assigner.assign(cls_logits, mask_logits, labels, masks,
                                   coords)[0]
    counter = OpCounter()
    clock = PhaseClock(counter=counter)
    probe.clock = clock
    with counter:
        clock.switch('losses')
        with probe.recording() as calls:
            got = probe.assign(cls_logits, mask_logits, labels, masks, coords)
            costs = probe.cost_matrices(cls_logits, mask_logits, labels,
                                        masks, coords)  # any method
            assert probe.methods == ['assign', 'cost_matrices']
        clock.switch(None)
    assert all(torch.equal(a, b) for a, b in zip(got[0], direct))
    assert torch.equal(costs.total, got[1].total)
    assert len(calls) == 2 and calls[0][2] is got
    assert counter.ops['matching'] > 0 and 'losses' not in counter.ops
    assert probe.num_points == 16  # attributes are the matcher's


@pytest.mark.slow
def test_benchmark_train_mask2former_losses_equal_mmdets_under_same_points(
        tmp_path, run_tool):
    """``--model mask2former-r50``, small: our R50 COCO panoptic
    Mask2Former and mmdet's, same weights and batch, our random points
    replayed into mmdet's head: all 30 loss terms within 1e-4 and the same
    assignment everywhere."""
    out = tmp_path / 'bench.json'
    printed = run_tool(['tools/analysis/benchmark_train.py', '--model',
                        'mask2former-r50', '--size', '64', '--iters', '1',
                        '--warmup', '0', '--out', str(out)])
    res = json.loads(out.read_text())
    assert res['args']['model'] == 'mask2former-r50'
    assert res['args']['check_losses'] is True
    check = res['loss_check']
    # 10 predictions x (cls, mask, dice), paired key by key
    assert len(check['ours']) == len(check['baseline']) == 30
    assert sorted(check['key_pairs'].values()) == sorted(check['baseline'])
    assert check['key_pairs']['loss_ce_0'] == 'd0.loss_cls'
    diffs = [abs(v - check['baseline'][check['key_pairs'][k]])
             for k, v in check['ours'].items()]
    assert max(diffs) == check['max_abs_diff'] < 1e-4
    # real losses, not zeros: every term positive
    assert min(check['baseline'].values()) > 1e-3
    # 10 predictions x (2 images' matching points + 2 loss draws)
    assert check['points_replayed'] == 40
    assert check['predictions_images_assigned_differently'] == []
    assert f"max |diff| = {check['max_abs_diff']:.2e}" in printed
    targets = {t['target']: t for t in res['targets']}
    assert len(targets) == 5
    loss_target = targets['loss terms, max |ours - mmdet|']
    assert loss_target['value'] == check['max_abs_diff']
    assert loss_target['met'] is True
    ours, base = res['measures']['ours'], res['measures']['baseline']
    assert ours['ops_head_matching_losses'] == sum(
        ours['ops_by_phase'].get(p, 0) for p in HEAD_PHASES)
    # mmdet builds its targets inside its loss (the 'losses' phase)
    assert all(base['ops_by_phase'].get(p, 0) > 0 for p in HEAD_PHASES
               if p != 'targets')
    assert ours['ops_by_phase']['targets'] > 0
    assert sum(base['syncs_head_matching_losses'].values()) > 1
