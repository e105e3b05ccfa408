"""AtomicCheckpointHook: a save cut off at any point leaves a complete
checkpoint, and ``last_checkpoint`` names an existing, complete file.

The runs are a toy mmengine ``Runner`` (a linear model, 3 iterations, a
checkpoint every iteration, ``max_keep_ckpts=1``, and a validation score
that rises every time, so every validation saves a new best). Its code is
the ``TOY_RUNNER`` script below: executed in this process for the quick
tests, and as a fresh process that SIGKILLs itself half-way through writing
a checkpoint for the slow one.
"""
import builtins
import inspect
import json
import os
import os.path as osp
import subprocess
import sys

import pytest
from mmengine.hooks import CheckpointHook

from mmmaskformer.engine import AtomicCheckpointHook
from mmmaskformer.engine.atomic_file_backend import ATOMIC_LOCAL_BACKEND, AtomicLocalBackend
from mmmaskformer.utils.checkpoint import checkpoint_problem

TOY_RUNNER = r'''
import builtins
import fnmatch
import json
import os
import os.path as osp
import signal
import sys

import torch
from mmengine.evaluator import BaseMetric, Evaluator
from mmengine.model import BaseModel
from mmengine.runner import Runner
from torch import nn
from torch.utils.data import DataLoader, Dataset

import mmmaskformer  # noqa: F401
from mmmaskformer.engine import AtomicCheckpointHook


class ToyData(Dataset):

    def __len__(self):
        return 4

    def __getitem__(self, i):
        return dict(inputs=torch.tensor([float(i), 1.0]))


class ToyModel(BaseModel):

    def __init__(self):
        super().__init__()
        self.linear = nn.Linear(2, 1)

    def forward(self, inputs, data_samples=None, mode='tensor'):
        out = self.linear(inputs)
        if mode == 'loss':
            return dict(loss=out.pow(2).mean())
        return [dict(out=o) for o in out]


class RisingScore(BaseMetric):
    """Every evaluation scores higher than the last: always a new best."""

    def __init__(self):
        super().__init__()
        self.evaluations = 0

    def process(self, data_batch, data_samples):
        self.results.append(0)

    def compute_metrics(self, results):
        self.evaluations += 1
        return dict(score=float(self.evaluations))


def toy_runner(work_dir, name, max_iters=3, **hook):
    hook = dict(dict(interval=1, by_epoch=False, max_keep_ckpts=1), **hook)
    if 'save_best' in hook:
        hook.setdefault('rule', 'greater')
    return Runner(
        model=ToyModel(), work_dir=work_dir, experiment_name=name,
        train_dataloader=DataLoader(ToyData(), batch_size=2),
        val_dataloader=DataLoader(ToyData(), batch_size=2),
        val_evaluator=Evaluator([RisingScore()]),
        optim_wrapper=dict(optimizer=dict(type='SGD', lr=0.01)),
        train_cfg=dict(by_epoch=False, max_iters=max_iters, val_interval=1),
        val_cfg=dict(), default_hooks=dict(
            checkpoint=AtomicCheckpointHook(**hook)),
        randomness=dict(seed=0))


class DyingFile:
    """Writes half of the first write, then ``die()``s."""

    def __init__(self, f, die):
        self.f, self.die = f, die

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.f.close()

    def write(self, data):
        self.f.write(data[:len(data) // 2])
        self.f.flush()
        os.fsync(self.f.fileno())
        self.die(self.f.name)

    def __getattr__(self, name):
        return getattr(self.f, name)


def dying_open(pattern, die):
    """``open`` that hands out a DyingFile for files written whose name
    matches ``pattern``."""
    real_open = builtins.open

    def _open(file, mode='r', *args, **kwargs):
        f = real_open(file, mode, *args, **kwargs)
        if 'w' in mode and fnmatch.fnmatch(osp.basename(str(file)), pattern):
            return DyingFile(f, die)
        return f
    return _open


def sigkill(name):
    os.kill(os.getpid(), signal.SIGKILL)


if __name__ == '__main__':
    work, name, pattern, hook = sys.argv[1:5]
    builtins.open = dying_open(pattern, sigkill)
    toy_runner(work, name, **json.loads(hook)).train()
'''


class Killed(BaseException):
    """Stands for the process dying: nothing catches it."""


def _die(name):
    raise Killed(name)


@pytest.fixture(scope='module')
def toy():
    space = {'__name__': 'toy_runner'}
    exec(compile(TOY_RUNNER, 'toy_runner', 'exec'), space)
    return space


def pointer(work) -> str:
    with open(osp.join(work, 'last_checkpoint')) as f:
        return f.read().strip()


def complete(path) -> bool:
    return checkpoint_problem(path) is None


# --------------------------------------------------------------- seams
def test_no_private_method_of_mmengine_is_overridden():
    ours = {n for n, v in vars(AtomicCheckpointHook).items()
            if inspect.isfunction(v)}
    private = {n for n in ours if n.startswith('_') and not n.startswith('__')
               and hasattr(CheckpointHook, n)}
    assert not private, private


def test_atomic_backend_is_chosen_through_backend_args():
    hook = AtomicCheckpointHook(interval=1)
    assert hook.backend_args == dict(backend=ATOMIC_LOCAL_BACKEND)
    # what you set yourself, or a remote out_dir, is left to mmengine
    assert AtomicCheckpointHook(backend_args=dict(backend='local')) \
        .backend_args == dict(backend='local')
    assert AtomicCheckpointHook(out_dir='s3://bucket/run').backend_args \
        is None


def test_backend_put_is_atomic_and_removals_wait(tmp_path):
    backend = AtomicLocalBackend()
    path = str(tmp_path / 'a.pth')
    backend.put(b'old', path)
    backend.remove(path)
    assert open(path, 'rb').read() == b'old'  # only noted
    backend.put(b'new', str(tmp_path / 'b.pth'))
    assert backend.flush_removals() == [path]
    assert not osp.exists(path)
    assert sorted(os.listdir(tmp_path)) == ['b.pth']  # no .tmp left


# ------------------------------------------------------------ the runs
def test_uninterrupted_run_keeps_one_checkpoint_and_the_best(toy, tmp_path):
    work = str(tmp_path / 'w')
    toy['toy_runner'](work, 'uninterrupted', save_best='score').train()
    files = sorted(n for n in os.listdir(work) if '.pth' in n)
    assert files == ['best_score_iter_3.pth', 'iter_3.pth']  # no .tmp
    assert pointer(work) == osp.join(work, 'iter_3.pth')
    assert complete(osp.join(work, 'iter_3.pth'))
    assert complete(osp.join(work, 'best_score_iter_3.pth'))


def test_interrupted_write_keeps_the_previous_checkpoint(
        toy, tmp_path, monkeypatch):
    """max_keep_ckpts=1: cut off while writing iter_2's file."""
    work = str(tmp_path / 'w')
    runner = toy['toy_runner'](work, 'cut_write')
    monkeypatch.setattr(builtins, 'open', toy['dying_open']('iter_2.pth*',
                                                            _die))
    with pytest.raises(Killed):
        runner.train()
    monkeypatch.undo()
    assert complete(osp.join(work, 'iter_1.pth'))
    assert pointer(work) == osp.join(work, 'iter_1.pth')
    assert not osp.exists(osp.join(work, 'iter_2.pth'))  # only its .tmp


def test_interrupted_rename_keeps_the_previous_checkpoint(
        toy, tmp_path, monkeypatch):
    """Stopped between the complete ``.tmp`` write and the rename."""
    work = str(tmp_path / 'w')
    runner = toy['toy_runner'](work, 'cut_rename')
    real_replace = os.replace

    def replace(src, dst):
        if osp.basename(str(dst)) == 'iter_2.pth':
            raise Killed(dst)
        return real_replace(src, dst)

    monkeypatch.setattr(os, 'replace', replace)
    with pytest.raises(Killed):
        runner.train()
    monkeypatch.undo()
    assert complete(osp.join(work, 'iter_1.pth'))
    assert pointer(work) == osp.join(work, 'iter_1.pth')
    assert complete(osp.join(work, 'iter_2.pth.tmp'))  # written, not moved


def test_interrupted_best_save_keeps_the_previous_best(
        toy, tmp_path, monkeypatch):
    work = str(tmp_path / 'w')
    runner = toy['toy_runner'](work, 'cut_best', save_best='score')
    monkeypatch.setattr(builtins, 'open',
                        toy['dying_open']('best_score_iter_2.pth*', _die))
    with pytest.raises(Killed):
        runner.train()
    monkeypatch.undo()
    assert complete(osp.join(work, 'best_score_iter_1.pth'))
    assert not osp.exists(osp.join(work, 'best_score_iter_2.pth'))
    # the regular checkpoint of iteration 2 was complete before validation
    assert pointer(work) == osp.join(work, 'iter_2.pth')
    assert complete(osp.join(work, 'iter_2.pth'))


@pytest.mark.slow
@pytest.mark.parametrize('pattern,kept,points_at', [
    ('iter_2.pth*', ['iter_1.pth'], 'iter_1.pth'),
    ('best_score_iter_2.pth*', ['best_score_iter_1.pth', 'iter_2.pth'],
     'iter_2.pth'),
])
def test_sigkill_while_writing_leaves_complete_checkpoints(
        tmp_path, tool_env, pattern, kept, points_at):
    script = tmp_path / 'toy_runner.py'
    script.write_text(TOY_RUNNER)
    work = str(tmp_path / 'w')
    hook = dict(save_best='score')
    proc = subprocess.run(
        [sys.executable, str(script), work, 'killed', pattern,
         json.dumps(hook)], env=tool_env(), capture_output=True, text=True,
        timeout=300)
    assert proc.returncode == -9, proc.stdout[-2000:] + proc.stderr[-2000:]
    for name in kept:
        assert complete(osp.join(work, name)), (name, os.listdir(work))
    assert pointer(work) == osp.join(work, points_at)
    # what was being written is only a .tmp, cut in half
    partial = [n for n in os.listdir(work) if n.endswith('.tmp')]
    assert len(partial) == 1 and not complete(osp.join(work, partial[0]))
