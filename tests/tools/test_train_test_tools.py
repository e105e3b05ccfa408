"""End to end through the user-facing tools on generated data (CPU)."""
import glob
import json
import os
import os.path as osp
import subprocess
import sys

import pytest
import torch

from mmmaskformer.datasets import generate_synthetic_dataset

REPO = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
CONFIG = osp.join(REPO, 'configs', 'maskformer_r18-tiny_synthetic-64x64.py')


@pytest.fixture(scope='module')
def data_root(tmp_path_factory):
    root = str(tmp_path_factory.mktemp('synthetic'))
    return generate_synthetic_dataset(root, num_train=8, num_val=3,
                                      progress=False)


@pytest.fixture(scope='module')
def options(data_options):
    def options(data_root, max_iters, ckpt_interval=None):
        return ['--cfg-options'] + data_options(data_root, max_iters,
                                                ckpt_interval)
    return options


def run(args, env=None, cwd=REPO):
    proc = subprocess.run([sys.executable] + args, cwd=cwd, env=env,
                          capture_output=True, text=True, timeout=600)
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    return proc.stdout + proc.stderr


def latest_metrics(work_dir):
    files = sorted(glob.glob(osp.join(work_dir, '*', '*.json')),
                   key=os.path.getmtime)
    with open(files[-1]) as f:
        return json.load(f)


@pytest.mark.slow
def test_train_resume_test(data_root, tmp_path, options):
    work = str(tmp_path / 'train')
    run(['tools/train.py', CONFIG, '--work-dir', work] +
        options(data_root, 4, ckpt_interval=2))
    assert osp.isfile(osp.join(work, 'iter_2.pth'))
    assert osp.isfile(osp.join(work, 'iter_4.pth'))
    ckpt = torch.load(osp.join(work, 'iter_4.pth'), weights_only=False)
    assert ckpt['meta']['iter'] == 4

    # resume the run (auto: latest checkpoint) and go on to 6 iterations
    log = run(['tools/train.py', CONFIG, '--work-dir', work, '--resume'] +
              options(data_root, 6, ckpt_interval=2))
    assert 'resumed epoch: 0, iter: 4' in log, log[-2000:]
    assert 'Iter(train) [5/6]' in log
    assert 'Iter(train) [1/6]' not in log
    resumed = torch.load(osp.join(work, 'iter_6.pth'), weights_only=False)
    assert resumed['meta']['iter'] == 6
    # the optimizer state was carried over, not re-initialised
    assert any(s['step'] == 6 for s in resumed['optimizer']['state'].values())

    # score with tools/test.py, writing predictions and visualisations
    test_dir, out_dir, show_dir = (str(tmp_path / d)
                                   for d in ('test', 'out', 'show'))
    run(['tools/test.py', CONFIG, osp.join(work, 'iter_6.pth'), '--work-dir',
         test_dir, '--out', out_dir, '--show-dir', show_dir] +
        options(data_root, 6))
    metrics = latest_metrics(test_dir)
    assert 0 <= metrics['mIoU'] <= 100 and 0 <= metrics['aAcc'] <= 100
    assert len(glob.glob(osp.join(out_dir, '*.png'))) == 3
    assert len(glob.glob(osp.join(show_dir, '**', '*.png'),
                         recursive=True)) == 3

    # test-time augmentation
    run(['tools/test.py', CONFIG, osp.join(work, 'iter_6.pth'), '--work-dir',
         str(tmp_path / 'tta'), '--tta'] + options(data_root, 6))
    assert 'mIoU' in latest_metrics(str(tmp_path / 'tta'))


@pytest.mark.slow
def test_dist_train_two_processes_on_cpu(data_root, tmp_path, options):
    work = str(tmp_path / 'dist')
    env = dict(os.environ, PYTHON=sys.executable, PORT='29533',
               OMP_NUM_THREADS='1')
    proc = subprocess.run(
        ['bash', 'tools/dist_train.sh', CONFIG, '2', '--work-dir', work] +
        options(data_root, 2), cwd=REPO, env=env, capture_output=True,
        text=True, timeout=600)
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    out = proc.stdout + proc.stderr
    assert 'backend: gloo' in out or "'backend': 'gloo'" in out, out[-2000:]
    assert 'Distributed training: True' in out
    assert osp.isfile(osp.join(work, 'iter_2.pth'))
