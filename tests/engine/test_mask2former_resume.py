"""Exact resume and weights-only loading on the Mask2Former demo config.

Mask2Former draws random points for every matching and every mask loss
(torch's global generator) on each training step, so a resumed run is
bit-identical only if those draws continue where they stopped. A run
killed with SIGKILL at a random iteration and resumed ends with the same
state dict, bit for bit, as a run never interrupted (random flips and a
data-loader worker too); the same resume with another torch RNG state does
not, so the points do reach the weights.
"""
import os
import os.path as osp
import random
import subprocess
import sys

import pytest
import torch

from mmmaskformer.datasets import generate_synthetic_dataset
from mmmaskformer.utils.checkpoint import safe_load

REPO = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
CONFIG = osp.join(REPO, 'configs', 'mask2former_r18-tiny_synthetic-64x64.py')
MAX_ITERS = 8

pytestmark = pytest.mark.slow


@pytest.fixture(scope='module')
def data_root(tmp_path_factory):
    root = str(tmp_path_factory.mktemp('synthetic'))
    return generate_synthetic_dataset(root, num_train=12, num_val=2,
                                      progress=False)


@pytest.fixture(scope='module')
def train_args(data_options):
    """``train_args(data_root, work_dir, extra=())``: a short run of the
    Mask2Former demo config, checkpoints every 2 iterations."""
    def train_args(data_root, work_dir, extra=()):
        return (['tools/train.py', CONFIG, '--work-dir', work_dir] +
                list(extra) + ['--cfg-options'] +
                data_options(data_root, MAX_ITERS, ckpt_interval=2,
                             workers=1))
    return train_args


@pytest.fixture(scope='module')
def uninterrupted(data_root, tmp_path_factory, run_tool, train_args):
    work = str(tmp_path_factory.mktemp('uninterrupted'))
    run_tool(train_args(data_root, work))
    return work


def differing_state(a: str, b: str) -> list:
    """Names of what differs between two checkpoints at MAX_ITERS: model
    tensors, optimizer state, schedulers."""
    sa, sb = safe_load(a), safe_load(b)
    assert sa['meta']['iter'] == sb['meta']['iter'] == MAX_ITERS
    assert sorted(sa['state_dict']) == sorted(sb['state_dict'])
    bad = [k for k in sa['state_dict']
           if not torch.equal(sa['state_dict'][k], sb['state_dict'][k])]
    opt_a, opt_b = sa['optimizer']['state'], sb['optimizer']['state']
    assert sorted(opt_a) == sorted(opt_b)
    for key in opt_a:
        for name in opt_a[key]:
            if not torch.equal(torch.as_tensor(opt_a[key][name]),
                               torch.as_tensor(opt_b[key][name])):
                bad.append(f'optimizer.{key}.{name}')
    if sa['param_schedulers'] != sb['param_schedulers']:
        bad.append('param_schedulers')
    return bad


def test_sigkill_then_resume_is_bit_identical_with_point_sampling(
        data_root, uninterrupted, tmp_path, run_tool, train_args, tool_env):
    kill_at = random.Random().randint(3, MAX_ITERS - 1)
    work = str(tmp_path / 'killed')
    proc = subprocess.Popen(
        [sys.executable] + train_args(data_root, work), cwd=REPO,
        env=tool_env(), stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
        text=True)
    seen = []
    for line in proc.stdout:
        seen.append(line)
        if f'Iter(train) [{kill_at}/{MAX_ITERS}]' in line:
            proc.kill()  # SIGKILL, possibly in the middle of a save
            break
    proc.wait(timeout=60)
    assert proc.returncode == -9, ''.join(seen[-40:])
    assert not osp.isfile(osp.join(work, f'iter_{MAX_ITERS}.pth'))
    log = run_tool(train_args(data_root, work, ['--resume']))
    assert 'resumed exactly at iteration' in log, log[-3000:]
    assert f'Iter(train) [1/{MAX_ITERS}]' not in log
    assert not differing_state(
        osp.join(uninterrupted, f'iter_{MAX_ITERS}.pth'),
        osp.join(work, f'iter_{MAX_ITERS}.pth'))
    print(f'killed at iteration {kill_at}')


def test_the_points_depend_on_the_restored_rng(data_root, uninterrupted,
                                               tmp_path, run_tool,
                                               train_args):
    """The control: the same resume from iteration 6 (the checkpoints
    kept) with its torch RNG state replaced ends with other weights (the
    point draws changed)."""
    ckpt = safe_load(osp.join(uninterrupted, 'iter_6.pth'))
    states = ckpt['meta']['resume_state']['rng_states']
    assert len(states) == 1
    same = str(tmp_path / 'same.pth')
    torch.save(ckpt, same)
    states[0]['torch'] = torch.Generator().manual_seed(12345).get_state()
    other = str(tmp_path / 'other.pth')
    torch.save(ckpt, other)
    final = osp.join(uninterrupted, f'iter_{MAX_ITERS}.pth')
    for path, equal in ((same, True), (other, False)):
        work = str(tmp_path / osp.basename(path)[:-4])
        log = run_tool(train_args(data_root, work, ['--resume', path]))
        assert 'resumed exactly at iteration 6' in log, log[-3000:]
        bad = differing_state(final, osp.join(work,
                                              f'iter_{MAX_ITERS}.pth'))
        assert (not bad) == equal, bad[:5]


class _Evil:
    marker = ''

    def __reduce__(self):
        return os.system, (f'touch {self.marker}',)


def test_weights_only_loading(data_root, uninterrupted, tmp_path, run_tool,
                              data_options, stopped_cleanly):
    """tools/test.py scores our Mask2Former checkpoint through the
    weights-only loader; a crafted one is refused, naming the file, and its
    code never runs."""
    ckpt = osp.join(uninterrupted, f'iter_{MAX_ITERS}.pth')
    out = run_tool(['tools/test.py', CONFIG, ckpt, '--work-dir',
                    str(tmp_path / 't'), '--cfg-options'] +
                   data_options(data_root, MAX_ITERS))
    assert 'mIoU' in out
    marker = tmp_path / 'pwned'
    evil = _Evil()
    evil.marker = str(marker)
    data = safe_load(ckpt)
    data['meta']['x'] = evil
    path = tmp_path / 'evil.pth'
    torch.save(data, str(path))
    out = run_tool(['tools/test.py', CONFIG, str(path), '--work-dir',
                    str(tmp_path / 't2'), '--cfg-options'] +
                   data_options(data_root, MAX_ITERS), expect_rc=1)
    msg = stopped_cleanly(out, 'CheckpointError')
    assert str(path) in msg and 'system' in msg
    assert not marker.exists()
