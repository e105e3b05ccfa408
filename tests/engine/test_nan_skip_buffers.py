"""``nonfinite_loss='skip'``: a skipped step leaves no trace, buffers included.

A batch with a NaN image runs its forward before the loss is known to be
NaN, and BatchNorm's forward writes its running statistics then. The guard
puts back every buffer the skipped forward changed, on every rank, so the
weights, the optimizer state and all buffers are bit-equal to those of a
run that never saw the batch, and the test mIoU is that of such a run.
"""
import os.path as osp
import socket
import subprocess
import sys

import pytest
import torch

import mmmaskformer  # noqa: F401
from mmmaskformer.engine import FiniteLossOptimWrapper

MODELS = r'''
import torch
from mmengine.model import BaseModel
from torch import nn


class Tally(nn.Module):
    """A non-BN buffer that every training forward changes."""

    def __init__(self):
        super().__init__()
        self.register_buffer('seen', torch.zeros(()))

    def forward(self, x):
        if self.training:
            self.seen += x.mean().detach()
        return x


class BNModel(BaseModel):

    def __init__(self):
        super().__init__()
        self.body = nn.Sequential(nn.Conv2d(3, 4, 3), nn.BatchNorm2d(4),
                                  nn.ReLU(), Tally(), nn.Conv2d(4, 1, 1))

    def forward(self, inputs, data_samples=None, mode='tensor'):
        out = self.body(inputs)
        if mode == 'loss':
            return dict(loss_out=out.pow(2).mean())
        return out


def batches():
    g = torch.Generator().manual_seed(1)
    a, bad, c = (torch.randn(2, 3, 8, 8, generator=g) for _ in range(3))
    bad[0, 1, 2, 3] = float('nan')  # one pixel of one image
    return a, bad, c
'''
_models = {'__name__': 'nan_skip_models'}
exec(compile(MODELS, 'nan_skip_models', 'exec'), _models)
BNModel, batches = _models['BNModel'], _models['batches']


def train(steps):
    torch.manual_seed(0)
    model = BNModel()
    wrapper = FiniteLossOptimWrapper(
        torch.optim.SGD(model.parameters(), lr=0.1, momentum=0.9),
        nonfinite_loss='skip', max_nonfinite_skips=3)
    for x in steps:
        model.train_step(dict(inputs=x), wrapper)
    return model, wrapper


def assert_same_state(one, two):
    s1, s2 = one.state_dict(), two.state_dict()
    assert s1.keys() == s2.keys()
    for k in s1:
        assert torch.equal(s1[k], s2[k]), k


def test_skipped_step_restores_every_buffer():
    a, bad, c = batches()
    model, wrapper = train([a])
    before = {k: v.clone() for k, v in model.state_dict().items()}
    model.train_step(dict(inputs=bad), wrapper)
    assert wrapper.skipped_steps == 1
    after = model.state_dict()
    for k, v in before.items():
        assert torch.equal(v, after[k]), k  # BN stats, num_batches, tally


def test_run_with_a_skipped_bad_batch_equals_a_run_without_it():
    a, bad, c = batches()
    skipped, w1 = train([a, bad, c])
    clean, w2 = train([a, c])
    assert w1.skipped_steps == 1 and w2.skipped_steps == 0
    assert_same_state(skipped, clean)
    assert all(torch.isfinite(v.float()).all()
               for v in skipped.state_dict().values())
    o1, o2 = w1.optimizer.state_dict(), w2.optimizer.state_dict()
    for i in o2['state']:
        for k, v in o2['state'][i].items():
            assert torch.equal(o1['state'][i][k], v), (i, k)


DDP_SCRIPT = r'''
import os
import sys

import torch
import torch.distributed as dist
import torch.multiprocessing as mp

sys.path.insert(0, sys.argv[3])
from nan_skip_models import BNModel, batches  # noqa: E402

from mmengine.model import MMDistributedDataParallel  # noqa: E402

from mmmaskformer.engine import FiniteLossOptimWrapper  # noqa: E402


def run(rank, out, port):
    os.environ.update(MASTER_ADDR='127.0.0.1', MASTER_PORT=port)
    dist.init_process_group('gloo', rank=rank, world_size=2)
    for name, with_bad in (('skipped', True), ('clean', False)):
        torch.manual_seed(0)
        model = MMDistributedDataParallel(module=BNModel())
        wrapper = FiniteLossOptimWrapper(
            torch.optim.SGD(model.parameters(), lr=0.1, momentum=0.9),
            nonfinite_loss='skip')
        a, bad, c = batches()
        a, c = a + rank, c - rank  # each rank its own data
        steps = [a, bad if rank == 0 else c + 1, c] if with_bad else [a, c]
        after_bad = None
        for i, x in enumerate(steps):
            model.train_step(dict(inputs=x), wrapper)
            if with_bad and i == 1:
                after_bad = {k: v.clone() for k, v in
                             model.module.state_dict().items()}
        torch.save(dict(state=model.module.state_dict(), after_bad=after_bad,
                        skipped=wrapper.skipped_steps),
                   os.path.join(out, f'{name}_{rank}.pth'))
    dist.destroy_process_group()


if __name__ == '__main__':
    mp.spawn(run, args=(sys.argv[1], sys.argv[2]), nprocs=2)
'''


def _free_port() -> str:
    with socket.socket() as s:
        s.bind(('127.0.0.1', 0))
        return str(s.getsockname()[1])


@pytest.mark.slow
def test_ddp_nan_on_rank0_is_not_broadcast(tmp_path, tool_env):
    """Rank 0 meets the NaN image, rank 1 a good batch; the step is skipped
    on both. Rank 0's NaN statistics must not reach rank 1 through DDP's
    buffer broadcast at the next forward."""
    (tmp_path / 'nan_skip_models.py').write_text(MODELS)
    script = tmp_path / 'ddp_nan.py'
    script.write_text(DDP_SCRIPT)
    proc = subprocess.run(
        [sys.executable, str(script), str(tmp_path), _free_port(),
         str(tmp_path)], env=tool_env(), capture_output=True, text=True,
        timeout=600)
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    for rank in (0, 1):
        skipped = torch.load(tmp_path / f'skipped_{rank}.pth')
        clean = torch.load(tmp_path / f'clean_{rank}.pth')
        assert skipped['skipped'] == 1, rank  # every rank skipped alike
        assert all(torch.isfinite(v.float()).all()
                   for v in skipped['after_bad'].values()), rank
        for k, v in clean['state'].items():
            assert torch.equal(skipped['state'][k], v), (rank, k)


# ------------------------------------------------------------ end to end
def _tiny_run(config, data_root, work_dir, name, inject):
    """Train the tiny config 4 iterations (a checkpoint each), with
    ``inject(runner)`` arming the fault, then test; returns (runner,
    test metrics)."""
    from mmengine.runner import Runner

    from mmmaskformer.utils.tool_config import load_tool_config
    options = {
        f'{d}.dataset.data_root': data_root
        for d in ('train_dataloader', 'val_dataloader', 'test_dataloader')
    }
    for d in ('train_dataloader', 'val_dataloader', 'test_dataloader'):
        options[f'{d}.num_workers'] = 0
        options[f'{d}.persistent_workers'] = False
    options.update({
        'train_dataloader.batch_size': 2, 'train_cfg.max_iters': 4,
        'train_cfg.val_interval': 100, 'param_scheduler.0.end': 4,
        'default_hooks.checkpoint.interval': 1,
        'default_hooks.checkpoint.max_keep_ckpts': -1,
        'optim_wrapper.nonfinite_loss': 'skip',
        'experiment_name': name})
    cfg = load_tool_config(config, cfg_options=options, work_dir=work_dir)
    runner = Runner.from_cfg(cfg)
    inject(runner)
    runner.train()
    return runner, runner.test()


def _at_train_forward(k, change_input=None, change_losses=None):
    def inject(runner):
        count = [0]

        def pre(module, args):
            if module.training:
                count[0] += 1
                if count[0] == k and change_input:
                    return (change_input(args[0]),) + tuple(args[1:])

        def post(module, args, output):
            if count[0] == k and change_losses and isinstance(output, dict):
                change_losses(output)

        runner.model.backbone.register_forward_pre_hook(pre)
        runner.model.register_forward_hook(post)
    return inject


def _nan_image(x):
    x = x.clone()
    x[0] = float('nan')
    return x


def _nan_loss(losses):
    key = next(k for k in losses if 'loss' in k)
    losses[key] = losses[key] * float('nan')


@pytest.mark.slow
def test_tiny_run_with_a_nan_image_equals_one_that_skipped_a_good_batch(
        tmp_path, tiny_config):
    """Run A: image 0 of iteration 3 is NaN. Run B: iteration 3's images are
    fine, its loss is made NaN after the forward (so that step is skipped
    too, and the forward saw good data). After the fix both runs skip a
    step that leaves no trace: same weights, same BN statistics, same test
    mIoU; and iteration 3's checkpoint equals iteration 2's."""
    from mmmaskformer.datasets import generate_synthetic_dataset
    from mmmaskformer.utils.checkpoint import safe_load
    root = generate_synthetic_dataset(str(tmp_path / 'data'), num_train=8,
                                      num_val=2, progress=False)
    runner_a, metrics_a = _tiny_run(
        tiny_config, root, str(tmp_path / 'a'), 'nan_image',
        _at_train_forward(3, change_input=_nan_image))
    runner_b, metrics_b = _tiny_run(
        tiny_config, root, str(tmp_path / 'b'), 'nan_loss',
        _at_train_forward(3, change_losses=_nan_loss))
    assert runner_a.optim_wrapper.skipped_steps == 1
    assert runner_b.optim_wrapper.skipped_steps == 1
    state_a = runner_a.model.state_dict()
    state_b = runner_b.model.state_dict()
    bn = [k for k in state_a if 'running_' in k]
    assert len(bn) >= 40
    for k in bn:
        assert torch.isfinite(state_a[k]).all(), k
    for k in state_b:
        assert torch.equal(state_a[k], state_b[k]), k
    assert metrics_a == metrics_b
    it2 = safe_load(osp.join(str(tmp_path / 'a'), 'iter_2.pth'))['state_dict']
    it3 = safe_load(osp.join(str(tmp_path / 'a'), 'iter_3.pth'))['state_dict']
    for k in it2:
        assert torch.equal(it2[k], it3[k]), k
