"""Exact resume, atomic checkpoints and weights-only loading, through the tools.

A run killed with SIGKILL at a random iteration and resumed ends with the
same state dict, bit for bit, as a run never interrupted: decoder dropout
0.1, random flips, a data-loader worker; also with ``randomness.seed``
unset and a bad sample skipped before the kill. The kill point is printed
in every failure message; ``MMMASKFORMER_KILL_AT=<iteration>`` replays it.
A resume with another batch size is refused unless ``--resume-changed``.
"""
import argparse
import os
import os.path as osp
import random
import shutil
import subprocess
import sys

import pytest
import torch

from mmmaskformer.datasets import generate_synthetic_dataset
from mmmaskformer.utils.checkpoint import safe_load

REPO = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
TINY = osp.join(REPO, 'configs', 'maskformer_r18-tiny_synthetic-64x64.py')

MAX_ITERS = 8

pytestmark = pytest.mark.slow


@pytest.fixture(scope='module')
def data_root(tmp_path_factory):
    root = str(tmp_path_factory.mktemp('synthetic'))
    return generate_synthetic_dataset(root, num_train=12, num_val=2,
                                      progress=False)


@pytest.fixture(scope='module')
def train_args(data_options):
    """``train_args(data_root, work_dir, extra=())``: a short tiny run with
    checkpoints every 2 iterations and dropout on."""
    def train_args(data_root, work_dir, extra=()):
        return (['tools/train.py', TINY, '--work-dir', work_dir] +
                list(extra) + ['--cfg-options'] +
                data_options(data_root, MAX_ITERS, ckpt_interval=2,
                             workers=1) +
                ['model.decode_head.transformer_decoder.dropout=0.1'])
    return train_args


@pytest.fixture(scope='module')
def uninterrupted(data_root, tmp_path_factory, run_tool, train_args):
    work = str(tmp_path_factory.mktemp('uninterrupted'))
    run_tool(train_args(data_root, work))
    return work


def assert_same_state(a: str, b: str, why: str = ''):
    sa, sb = safe_load(a), safe_load(b)
    assert sa['meta']['iter'] == sb['meta']['iter'] == MAX_ITERS, why
    keys = sorted(sa['state_dict'])
    assert keys == sorted(sb['state_dict']), why
    for k in keys:
        assert torch.equal(sa['state_dict'][k], sb['state_dict'][k]), (k, why)
    for (ka, va), (kb, vb) in zip(sorted(sa['optimizer']['state'].items()),
                                  sorted(sb['optimizer']['state'].items())):
        assert ka == kb, why
        for name in va:
            assert torch.equal(torch.as_tensor(va[name]),
                               torch.as_tensor(vb[name])), (ka, name, why)
    assert sa['param_schedulers'] == sb['param_schedulers'], why


def kill_point(low: int, high: int) -> int:
    """A random iteration in ``[low, high]``, or ``MMMASKFORMER_KILL_AT``."""
    fixed = os.environ.get('MMMASKFORMER_KILL_AT')
    kill_at = int(fixed) if fixed else random.Random().randint(low, high)
    print(f'kill point: iteration {kill_at} (replay it with '
          f'MMMASKFORMER_KILL_AT={kill_at})')
    return kill_at


def train_until_killed(args, tool_env, kill_at, after=None):
    """Run ``python args`` and SIGKILL it once it logs iteration
    ``kill_at`` (and, with ``after``, a line containing ``after`` before);
    returns the output so far."""
    proc = subprocess.Popen(
        [sys.executable] + args, cwd=REPO, env=tool_env(),
        stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    seen, ready = [], after is None
    for line in proc.stdout:
        seen.append(line)
        ready = ready or after in line
        if ready and f'Iter(train) [{kill_at}/{MAX_ITERS}]' in line:
            proc.kill()  # SIGKILL, possibly in the middle of a save
            break
    proc.wait(timeout=60)
    out = ''.join(seen)
    replay = f'(kill point {kill_at}: MMMASKFORMER_KILL_AT={kill_at})'
    assert proc.returncode == -9, f'{replay}\n{out[-3000:]}'
    return out


def test_sigkill_at_a_random_iteration_then_resume_is_bit_identical(
        data_root, uninterrupted, tmp_path, run_tool, tool_env, train_args):
    kill_at = kill_point(3, MAX_ITERS - 1)
    replay = f'(kill point {kill_at}: MMMASKFORMER_KILL_AT={kill_at})'
    work = str(tmp_path / 'killed')
    train_until_killed(train_args(data_root, work), tool_env, kill_at)
    assert not osp.isfile(osp.join(work, f'iter_{MAX_ITERS}.pth')), replay

    log = run_tool(train_args(data_root, work, ['--resume']))
    assert 'resumed exactly at iteration' in log, f'{replay}\n{log[-3000:]}'
    assert f'Iter(train) [{MAX_ITERS}/{MAX_ITERS}]' in log, replay
    assert f'Iter(train) [1/{MAX_ITERS}]' not in log, replay
    assert_same_state(osp.join(uninterrupted, f'iter_{MAX_ITERS}.pth'),
                      osp.join(work, f'iter_{MAX_ITERS}.pth'), replay)


def test_unseeded_run_with_a_skipped_sample_resumes_bit_identical(
        tmp_path, bad_inputs, run_tool, tool_env, train_args):
    """``randomness.seed`` unset (every paper config), a bad sample skipped
    before the kill: the resumed run equals an uninterrupted run with the
    seed the killed run drew."""
    # 4 good + 1 bad: the first 5 draws (iterations 1-3) meet the bad one
    root = bad_inputs.write_semantic_root(str(tmp_path / 'data'),
                                          ['img_not_an_image'], good=4)
    unseeded = ['randomness.seed=None', 'train_cfg.max_bad_fraction=1.0']

    def args(work, extra=(), options=()):
        return train_args(root, work, extra) + unseeded + list(options)

    kill_at = kill_point(4, MAX_ITERS - 1)
    replay = f'(kill point {kill_at}: MMMASKFORMER_KILL_AT={kill_at})'
    work = str(tmp_path / 'killed')
    before = train_until_killed(args(work), tool_env, kill_at,
                                after=' bad sample(s), ')
    assert 'img_not_an_image.png' in before, replay
    log = run_tool(args(work, ['--resume']))
    assert 'resumed exactly at iteration' in log, f'{replay}\n{log[-3000:]}'
    final = safe_load(osp.join(work, f'iter_{MAX_ITERS}.pth'))['meta']
    seed = final['resume_state']['seed']
    assert final['seed'] == seed, replay
    assert f'(seed {seed})' in log, replay

    reference = str(tmp_path / 'reference')
    run_tool(args(reference, options=[f'randomness.seed={seed}']))
    assert_same_state(osp.join(reference, f'iter_{MAX_ITERS}.pth'),
                      osp.join(work, f'iter_{MAX_ITERS}.pth'), replay)
    ref = safe_load(osp.join(reference, f'iter_{MAX_ITERS}.pth'))['meta']
    for key in ('samples_seen', 'draws', 'bad_samples'):
        assert final['resume_state'][key] == ref['resume_state'][key], \
            (key, replay)
    assert final['resume_state']['bad_samples'][0] >= 1, replay


def test_resume_with_another_batch_size_is_refused_or_named(
        data_root, uninterrupted, tmp_path, data_options, run_tool,
        stopped_cleanly):
    work = tmp_path / 'changed'
    work.mkdir()
    ckpt = str(work / 'iter_6.pth')
    shutil.copy(osp.join(uninterrupted, 'iter_6.pth'), ckpt)
    args = ['tools/train.py', TINY, '--work-dir', str(work), '--resume',
            ckpt, '--cfg-options'] + data_options(
                data_root, MAX_ITERS, ckpt_interval=2, batch_size=3)
    out = run_tool(args, expect_rc=1)
    msg = stopped_cleanly(out, 'ResumeMismatchError')
    assert 'batch size 2 (1 x 2) in the checkpoint, 3 (1 x 3) now' in msg
    assert '--resume-changed' in msg
    log = run_tool(args[:4] + ['--resume-changed'] + args[4:])
    assert 'resumed exactly' not in log
    assert 'not exact: batch size 2 (1 x 2) in the checkpoint, 3 (1 x 3) ' \
        'now' in log
    assert f'Iter(train) [{MAX_ITERS}/{MAX_ITERS}]' in log


def test_truncated_checkpoint_in_work_dir_is_passed_over(
        data_root, uninterrupted, tmp_path, run_tool, train_args):
    work = str(tmp_path / 'truncated')
    os.makedirs(work)
    shutil.copy(osp.join(uninterrupted, 'iter_6.pth'), work)
    full = open(osp.join(uninterrupted, 'iter_8.pth'), 'rb').read()
    with open(osp.join(work, 'iter_8.pth'), 'wb') as f:
        f.write(full[:len(full) // 2])  # a save cut off half-way
    with open(osp.join(work, 'last_checkpoint'), 'w') as f:
        f.write(osp.join(work, 'iter_8.pth'))
    log = run_tool(train_args(data_root, work, ['--resume']))
    assert 'iter_8.pth: not a complete torch checkpoint' in log, log[-3000:]
    assert 'resumed exactly at iteration 6' in log
    assert_same_state(osp.join(uninterrupted, 'iter_8.pth'),
                      osp.join(work, 'iter_8.pth'))


def test_checkpoint_writes_are_atomic(uninterrupted):
    names = sorted(os.listdir(uninterrupted))
    assert not [n for n in names if n.endswith('.tmp')], names
    with open(osp.join(uninterrupted, 'last_checkpoint')) as f:
        assert f.read().strip() == osp.join(uninterrupted, 'iter_8.pth')


def test_corrupt_checkpoint_given_by_path_is_refused(
        data_root, tmp_path, run_tool, stopped_cleanly, train_args):
    bad = tmp_path / 'corrupt.pth'
    bad.write_bytes(b'PK\x03\x04 this is not a checkpoint' * 10)
    out = run_tool(train_args(data_root, str(tmp_path / 'w'),
                              ['--resume', str(bad)]), expect_rc=1)
    msg = stopped_cleanly(out, 'CheckpointError')
    assert str(bad) in msg and 'not a complete torch checkpoint' in msg


def test_truncated_checkpoint_given_to_test_tool_is_refused(
        data_root, uninterrupted, tmp_path, data_options, run_tool, stopped_cleanly):
    full = open(osp.join(uninterrupted, 'iter_8.pth'), 'rb').read()
    cut = tmp_path / 'cut.pth'
    cut.write_bytes(full[:len(full) - 100])
    out = run_tool(['tools/test.py', TINY, str(cut), '--work-dir',
                    str(tmp_path / 't'), '--cfg-options'] +
                   data_options(data_root, MAX_ITERS), expect_rc=1)
    msg = stopped_cleanly(out, 'CheckpointError')
    assert str(cut) in msg and 'truncated or corrupt' in msg


class _Evil:
    marker = ''

    def __reduce__(self):
        return os.system, (f'touch {self.marker}',)


def test_crafted_checkpoint_cannot_run_code(
        data_root, tmp_path, data_options, run_tool, stopped_cleanly,
        train_args):
    marker = tmp_path / 'pwned'
    evil = _Evil()
    evil.marker = str(marker)
    path = tmp_path / 'evil.pth'
    torch.save({'state_dict': {}, 'meta': {'x': evil}}, str(path))
    out = run_tool(['tools/test.py', TINY, str(path), '--work-dir',
                    str(tmp_path / 't'), '--cfg-options'] +
                   data_options(data_root, MAX_ITERS), expect_rc=1)
    msg = stopped_cleanly(out, 'CheckpointError')
    assert str(path) in msg and 'system' in msg and 'trust_checkpoint' in msg
    assert not marker.exists()
    # and through --resume
    out = run_tool(train_args(data_root, str(tmp_path / 'w'),
                              ['--resume', str(path)]), expect_rc=1)
    assert str(path) in stopped_cleanly(out, 'CheckpointError')
    assert not marker.exists()


def test_our_checkpoints_test_weights_only_and_convert(
        data_root, uninterrupted, tmp_path, data_options, run_tool):
    ckpt = osp.join(uninterrupted, 'iter_8.pth')
    out = run_tool(['tools/test.py', TINY, ckpt, '--work-dir',
                    str(tmp_path / 't'), '--cfg-options'] +
                   data_options(data_root, MAX_ITERS))
    assert 'mIoU' in out
    # an old checkpoint with a type outside the list is refused by the
    # weights-only loader; trusted, it converts to a safe one
    old = tmp_path / 'old.pth'
    data = safe_load(ckpt)
    data['meta']['foreign'] = argparse.Namespace(lr=0.1)  # e.g. old args
    torch.save(data, str(old))
    with pytest.raises(Exception, match='argparse.Namespace'):
        safe_load(str(old))
    conv = run_tool(['tools/misc/trust_checkpoint.py', str(old),
                     str(tmp_path / 'new.pth')])
    assert 'dropped checkpoint.meta.foreign' in conv
    new = safe_load(str(tmp_path / 'new.pth'))
    assert 'foreign' not in new['meta']
    for k, v in data['state_dict'].items():
        assert torch.equal(new['state_dict'][k], v)

