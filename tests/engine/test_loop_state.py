"""The training loop's resume state, in process, on a toy model and dataset.

A toy model with dropout trains on a toy dataset whose samples draw from
numpy's RNG (an augmentation); mmengine's ``Runner`` drives our loop and
sampler. Resuming from a checkpoint of a run with ``randomness.seed`` unset
ends with the same weights as the run itself, bit for bit; changed batch
sizes, dataset lengths and learning rates are refused, or named with
``resume_changed``; the skip counters of every rank come back.
"""
import glob
import os.path as osp
import random
import shutil

import numpy as np
import pytest
import torch
from mmengine.model import BaseModel
from mmengine.runner import Runner
from torch import nn

from mmmaskformer.engine.bad_sample_counter import BadSampleCounter
from mmmaskformer.engine.loops import ResumableIterBasedTrainLoop
from mmmaskformer.engine.rng import capture_rng_state
from mmmaskformer.engine.run_signature import changes_since
from mmmaskformer.engine.sampler import PositionalInfiniteSampler
from mmmaskformer.engine.train_batches import TrainBatches
from mmmaskformer.errors import BadSampleError, ResumeMismatchError
from mmmaskformer.utils.checkpoint import safe_load


class ToyDataset:
    """``length`` samples of 3 numbers: the index, a numpy and a python
    draw; the indices in ``bad`` fail to load."""

    metainfo = dict(classes=('toy', ))

    def __init__(self, length=12, bad=()):
        self.length = length
        self.bad = set(bad)

    def __len__(self):
        return self.length

    def get_data_info(self, i):
        return dict(img_path=f'toy/{i:02d}.png')

    def __getitem__(self, i):
        if int(i) in self.bad:
            raise ValueError('cannot decode')
        return dict(inputs=torch.tensor(
            [float(i), np.random.rand(), random.random()]))


class ToyModel(BaseModel):
    """A linear layer behind dropout: the model's own randomness."""

    def __init__(self):
        super().__init__()
        torch.manual_seed(0)
        self.linear = nn.Linear(3, 2)
        self.dropout = nn.Dropout(0.5)

    def forward(self, inputs, data_samples=None, mode='tensor'):
        out = self.linear(self.dropout(torch.stack(inputs)))
        if mode == 'loss':
            return dict(loss=(out - 1).pow(2).mean())
        return out


def make_runner(work_dir, name, seed=None, batch=2, lr=0.1, length=12,
                bad=(), resume_from=None, resume=True, **loop_args):
    return Runner(
        model=ToyModel(), work_dir=str(work_dir), experiment_name=name,
        train_dataloader=dict(
            dataset=ToyDataset(length, bad), batch_size=batch, num_workers=0,
            sampler=dict(type=PositionalInfiniteSampler, shuffle=True)),
        train_cfg=dict(type=ResumableIterBasedTrainLoop, max_iters=6,
                       **loop_args),
        optim_wrapper=dict(optimizer=dict(type='SGD', lr=lr)),
        param_scheduler=dict(type='LinearLR', start_factor=0.5, begin=0,
                             end=6, by_epoch=False),
        default_hooks=dict(checkpoint=dict(type='CheckpointHook', interval=2,
                                           by_epoch=False)),
        randomness=dict(seed=seed), load_from=resume_from,
        resume=resume and resume_from is not None,
        default_scope='mmmaskformer')


def log_of(work_dir, name):
    (path, ) = glob.glob(osp.join(str(work_dir), '*', '*.log'))
    with open(path, encoding='utf-8') as f:
        return f.read()


@pytest.fixture(scope='module')
def unseeded_run(tmp_path_factory):
    """6 iterations with the seed unset and one bad sample, skipped."""
    work = tmp_path_factory.mktemp('unseeded')
    make_runner(work, 'unseeded', bad=(3, ), max_bad_fraction=1.0).train()
    return work


def resume_copy(tmp_path, run, name, iteration=4, **kwargs):
    work = tmp_path / name
    work.mkdir()
    ckpt = str(work / f'iter_{iteration}.pth')
    shutil.copy(osp.join(str(run), f'iter_{iteration}.pth'), ckpt)
    return work, make_runner(work, tmp_path.name, bad=(3, ),
                             max_bad_fraction=1.0,
                             resume_from=ckpt, **kwargs)


def test_unseeded_resume_is_bit_identical_with_counts(unseeded_run,
                                                      tmp_path):
    work, runner = resume_copy(tmp_path, unseeded_run, 'resumed')
    runner.train()
    a = safe_load(osp.join(str(unseeded_run), 'iter_6.pth'))
    b = safe_load(osp.join(str(work), 'iter_6.pth'))
    for k in a['state_dict']:
        assert torch.equal(a['state_dict'][k], b['state_dict'][k]), k
    sa, sb = a['meta']['resume_state'], b['meta']['resume_state']
    saved = safe_load(osp.join(str(unseeded_run), 'iter_4.pth'))
    assert sa['seed'] == sb['seed'] == \
        saved['meta']['resume_state']['seed'] == a['meta']['seed']
    # index 3 is in the first 12 draws once; a redraw may meet it again
    assert sa['bad_samples'] == sb['bad_samples'] and sa['bad_samples'][0] >= 1
    assert sa['draws'] == sb['draws'] == [12 + sa['bad_samples'][0]]
    assert sa['samples_seen'] == sb['samples_seen'] == 12
    log = log_of(work, 'resumed')
    assert f"resumed exactly at iteration 4: sampler at global sample 8 " \
        f"(seed {sa['seed']})" in log


def test_a_new_seed_would_have_changed_the_run(unseeded_run, tmp_path):
    """The comparison above can fail: another seed gives other weights."""
    work = tmp_path / 'other'
    make_runner(work, 'other', seed=12345, bad=(3, ),
                max_bad_fraction=1.0).train()
    a = safe_load(osp.join(str(unseeded_run), 'iter_6.pth'))['state_dict']
    b = safe_load(osp.join(str(work), 'iter_6.pth'))['state_dict']
    assert not all(torch.equal(a[k], b[k]) for k in a)


@pytest.mark.parametrize('change, phrase', [
    (dict(batch=4), 'batch size 2 (1 x 2) in the checkpoint, 4 (1 x 4) now'),
    (dict(length=13), 'dataset length 12 in the checkpoint, 13 now'),
    (dict(lr=0.2), 'learning rate 0.1 in the checkpoint, 0.2 now'),
])
def test_changed_run_is_refused_naming_the_change(unseeded_run, tmp_path,
                                                  change, phrase):
    _, runner = resume_copy(tmp_path, unseeded_run, 'changed', **change)
    with pytest.raises(ResumeMismatchError) as info:
        runner.train()
    assert phrase in str(info.value) and '--resume-changed' in str(
        info.value)
    assert '\n' not in str(info.value)


def test_changed_run_resumes_with_resume_changed_and_says_so(
        unseeded_run, tmp_path):
    work, runner = resume_copy(tmp_path, unseeded_run, 'allowed', lr=0.2,
                               resume_changed=True)
    runner.train()
    log = log_of(work, 'allowed')
    assert 'resumed exactly' not in log
    assert 'resumed at iteration 4' in log and 'not exact: learning rate ' \
        '0.1 in the checkpoint, 0.2 now' in log
    # what the warning says: the restored optimizer keeps the old rate
    assert runner.optim_wrapper.param_groups[0]['initial_lr'] == 0.1


def test_load_from_only_initialises_the_weights(unseeded_run, tmp_path):
    work = tmp_path / 'finetune'
    ckpt = osp.join(str(unseeded_run), 'iter_4.pth')
    runner = make_runner(work, 'finetune', batch=4, resume_from=ckpt,
                         resume=False)
    runner.train()  # another batch size is fine for a fine-tune
    state = safe_load(str(work / 'iter_6.pth'))['meta']['resume_state']
    assert state['samples_seen'] == 6 * 4 and state['draws'] == [24]
    assert 'resumed' not in log_of(work, 'finetune')


# ------------------------------------------------------------ the parts
def test_train_batches_answer_the_replay_then_restore_rng():
    loader = torch.utils.data.DataLoader(list(range(10)), batch_size=2)
    batches = TrainBatches(loader)
    torch.manual_seed(7)
    saved = capture_rng_state()
    expected = torch.rand(1)
    torch.manual_seed(99)
    batches.resume(replayed=3)
    batches.restore_rng_before_next(saved)
    assert [next(batches) for _ in range(3)] == [None, None, None]
    assert batches.rng_before_next is saved  # not restored during replay
    assert next(batches).tolist() == [0, 1]
    assert torch.equal(torch.rand(1), expected)
    assert [next(batches).tolist() for _ in range(5)] == \
        [[2, 3], [4, 5], [6, 7], [8, 9], [0, 1]]  # a finite loader restarts


def test_train_batches_hold_a_bad_sample_for_the_loop():
    class Bad(torch.utils.data.Dataset):
        def __len__(self):
            return 2

        def __getitem__(self, i):
            raise BadSampleError('bad sample x.png: truncated PNG')

    batches = TrainBatches(torch.utils.data.DataLoader(Bad()))
    assert next(batches) is None
    assert batches.pending_error == 'bad sample x.png: truncated PNG'


def test_counter_counts_limits_and_restores():
    counter = BadSampleCounter(0.25, dataset_length=8)
    counter.count(1, 2, ['bad sample a.png: empty file'])
    assert (counter.draws, counter.bad) == ([3], [1])
    assert counter.limit == 0.25 * 8
    counter.count(2, 2, [])
    counter.count(3, 2, ['bad sample b.png: empty file'])
    assert (counter.draws, counter.bad) == ([8], [2])  # 2 = 0.25 * 8: on
    with pytest.raises(BadSampleError, match=r'(?s)3 of 11 samples drawn were '
                       r'bad, more than max_bad_fraction=0.25 of max\(drawn, '
                       r'dataset length 8\).*c.png'):
        counter.count(4, 2, ['bad sample c.png: empty file'])
    with pytest.raises(BadSampleError, match=r'^bad sample d.png: no such'):
        BadSampleCounter(1.0, 8).count(1, 2, [], 'bad sample d.png: no such '
                                       'file')
    two = BadSampleCounter(0.5, 8, world_size=2)
    two.load_state_dict(dict(draws=[5, 6], bad_samples=[1, 2]))
    assert (two.draws, two.bad) == ([5, 6], [1, 2])
    assert two.state_dict() == dict(draws=[5, 6], bad_samples=[1, 2])
    one = BadSampleCounter(0.5, 8, world_size=1)
    one.load_state_dict(dict(draws=[5, 6], bad_samples=[1, 2]))
    assert (one.draws, one.bad) == ([11], [3])  # totals kept


def test_changes_since_names_each_change():
    saved = dict(batch_size=8, batch_per_process=4, world_size=2,
                 dataset_length=100, lr=[1e-4, 1e-5])
    same_global = dict(saved, batch_per_process=8, world_size=1)
    assert changes_since(saved, same_global) == []
    now = dict(saved, batch_size=16, batch_per_process=8, lr=[1e-4, 2e-5])
    assert changes_since(saved, now) == [
        'batch size 8 (2 x 4) in the checkpoint, 16 (2 x 8) now',
        'learning rate 1e-05 in the checkpoint, 2e-05 now (parameter group '
        '1; the restored optimizer and scheduler states keep the '
        'checkpoint\'s rates)']
