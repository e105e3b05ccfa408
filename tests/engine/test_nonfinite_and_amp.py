"""Non-finite losses stop the run (or skip the step); AMP keeps matching and
losses in float32."""
import re

import pytest
import torch
from torch import nn

import mmmaskformer  # noqa: F401
from mmmaskformer.datasets import generate_synthetic_dataset
from mmmaskformer.engine import FiniteLossOptimWrapper, NonFiniteLossError
from mmmaskformer.models.assigners.hungarian_assigner import MaskFormerHungarianAssigner
from mmmaskformer.models.losses.set_criterion import SetCriterion
from mmmaskformer.structures import MaskTargets


class _Model(nn.Module):

    def __init__(self):
        super().__init__()
        self.linear = nn.Linear(2, 1)

    def forward(self, x, data_samples=None, mode='loss'):
        out = self.linear(x).sum()
        return dict(loss_a=out, loss_b=out * 0 + x.sum())


def _step(wrapper, model, x):
    with wrapper.optim_context(model):
        losses = model(x, data_samples=[])
    wrapper.update_params(sum(losses.values()))


def test_guard_raises_naming_the_term():
    model = _Model()
    wrapper = FiniteLossOptimWrapper(torch.optim.SGD(model.parameters(), lr=0.1))
    _step(wrapper, model, torch.ones(1, 2))
    before = [p.detach().clone() for p in model.parameters()]
    with pytest.raises(NonFiniteLossError, match=r'loss_b=nan'):
        _step(wrapper, model, torch.tensor([[1.0, float('nan')]]))
    assert all(torch.equal(a, b) for a, b in zip(before, model.parameters()))


def test_guard_skips_steps_then_stops():
    model = _Model()
    wrapper = FiniteLossOptimWrapper(torch.optim.SGD(model.parameters(), lr=0.1),
                           nonfinite_loss='skip', max_nonfinite_skips=2)
    before = [p.detach().clone() for p in model.parameters()]
    bad = torch.tensor([[1.0, float('inf')]])
    _step(wrapper, model, bad)  # skipped: weights unchanged, grads dropped
    assert all(torch.equal(a, b) for a, b in zip(before, model.parameters()))
    assert all(p.grad is None or not p.grad.any() for p in model.parameters())
    _step(wrapper, model, torch.ones(1, 2))  # a good step resets the count
    assert wrapper.consecutive_skips == 0
    assert not torch.equal(before[0], model.linear.weight)
    _step(wrapper, model, bad)
    with pytest.raises(NonFiniteLossError, match='2 consecutive steps'):
        _step(wrapper, model, bad)


@pytest.fixture(scope='module')
def data_root(tmp_path_factory):
    return generate_synthetic_dataset(
        str(tmp_path_factory.mktemp('synthetic')), num_train=8, num_val=2,
        progress=False)


EXPLODE = ['optim_wrapper.clip_grad=None', 'optim_wrapper.optimizer.lr=1e12',
           'optim_wrapper.optimizer.weight_decay=0.0']


@pytest.mark.slow
def test_train_stops_on_a_nonfinite_loss(data_root, tmp_path, run_tool, data_options,
        stopped_cleanly, tiny_config):
    out = run_tool(['tools/train.py', tiny_config, '--work-dir', str(tmp_path / 'w'),
                    '--cfg-options'] + data_options(data_root, 6) + EXPLODE,
                   expect_rc=1)
    msg = stopped_cleanly(out, 'NonFiniteLossError')
    assert re.search(r'iteration \d+: the loss is not finite', msg), msg
    assert re.search(r'loss_\w+=(nan|inf|-inf)', msg), msg
    assert 'img_dir/train/0000' in msg  # the files of the batch


@pytest.mark.slow
def test_train_skips_nonfinite_steps_then_stops(data_root, tmp_path, run_tool, data_options,
        stopped_cleanly, tiny_config):
    out = run_tool(['tools/train.py', tiny_config, '--work-dir', str(tmp_path / 'w'),
                    '--cfg-options'] + data_options(data_root, 10) + EXPLODE +
                   ['optim_wrapper.nonfinite_loss=skip',
                    'optim_wrapper.max_nonfinite_skips=3'], expect_rc=1)
    assert 'skipping this optimizer step (1 in a row, at most 3)' in out
    msg = stopped_cleanly(out, 'NonFiniteLossError')
    assert '3 consecutive steps had a non-finite loss' in msg


# ------------------------------------------------------------------- AMP
def _close_cost_case():
    """Two queries and two targets whose assignments differ in cost by
    ~5e-5, below what bf16 resolves at these magnitudes.

    The targets differ in 6 of 128x128 pixels, where each query leans
    (logit +-0.01) to its own target; elsewhere both are confident. The
    focal cost of a pair is a sum over 16384 pixels (~800), which bf16
    (8-bit mantissa) rounds in steps of 4: computed in bf16 the two
    assignments tie (seed chosen so; see the assert below).
    """
    g = torch.Generator().manual_seed(2)
    h = w = 128
    base = torch.randn(h, w, generator=g)
    t0 = (base > 0).float()
    t1 = t0.clone()
    t1[:2, :3] = 1 - t1[:2, :3]
    diff = t0 != t1
    conf = (t0 * 2 - 1) * 3.0 + 0.5 * torch.randn(h, w, generator=g)
    q0, q1 = conf.clone(), conf.clone()
    q0[diff] = (t0[diff] * 2 - 1) * 0.01
    q1[diff] = (t1[diff] * 2 - 1) * 0.01
    mask_logits = torch.stack([q0, q1])[None, None]  # (L=1, B=1, Q=2, h, w)
    cls_logits = torch.zeros(1, 1, 2, 3)
    targets = [MaskTargets(torch.tensor([0, 0]),
                           torch.stack([t0, t1]).bool())]
    return cls_logits, mask_logits, targets


def _gap(c):
    return (c[0, 1] + c[1, 0] - c[0, 0] - c[1, 1]).item()


def test_matching_is_float32_and_exact_under_bf16_autocast():
    from mmmaskformer.models.losses.functional import (
        pairwise_dice_cost,
        pairwise_sigmoid_focal_cost,
    )
    cls_logits, mask_logits, targets = _close_cost_case()
    logits = mask_logits[0, 0].flatten(1)
    tgt = targets[0].masks.float().flatten(1)

    def mask_cost():
        return 20 * pairwise_sigmoid_focal_cost(logits, tgt) + \
            pairwise_dice_cost(logits, tgt)

    exact = mask_cost()
    with torch.autocast('cpu', dtype=torch.bfloat16):
        naive = mask_cost()
    assert _gap(exact) > 1e-5  # float32 prefers (0->0, 1->1)
    assert _gap(naive) <= 0  # bf16 cannot tell the assignments apart

    assigner = MaskFormerHungarianAssigner()
    ref_costs = assigner.cost_matrices(cls_logits, mask_logits, targets)
    ref = assigner.assign(cls_logits, mask_logits, targets)
    with torch.autocast('cpu', dtype=torch.bfloat16):
        costs = assigner.cost_matrices(cls_logits, mask_logits, targets)
        got = assigner.assign(cls_logits, mask_logits, targets)
    assert costs[0].dtype == torch.float32
    assert torch.allclose(costs[0], ref_costs[0], atol=1e-6, rtol=0)
    assert all(torch.equal(g, r) for g, r in zip(got, ref))
    assert got.target_idx.tolist() == [0, 1]


def test_losses_finite_and_close_to_float32_under_bf16_autocast():
    cls_logits, mask_logits, targets = _close_cost_case()
    criterion = SetCriterion(num_classes=2)
    cls = cls_logits.repeat(1, 1, 1, 1).requires_grad_()
    mask = mask_logits.clone().requires_grad_()
    ref = criterion(cls, mask, targets, weighted=False)
    with torch.autocast('cpu', dtype=torch.bfloat16):
        got = criterion(cls, mask, targets, weighted=False)
    for k in ref:
        assert got[k].dtype == torch.float32, k
        assert torch.isfinite(got[k]), k
        assert abs(got[k].item() - ref[k].item()) <= 1e-3, k
    sum(got.values()).backward()
    assert torch.isfinite(mask.grad).all()


@pytest.mark.slow
def test_amp_on_cpu_stops_with_a_clear_message(data_root, tmp_path, run_tool, data_options,
        stopped_cleanly, tiny_config):
    out = run_tool(['tools/train.py', tiny_config, '--amp', '--work-dir',
                    str(tmp_path / 'w'), '--cfg-options'] +
                   data_options(data_root, 2), expect_rc=1)
    assert '--amp needs a GPU' in out and 'Traceback' not in out
