"""Our guarantees under MMSegmentation's own ``tools/train.py``.

A downstream config inherits ``mmseg::_base_/default_runtime.py`` (default
scope ``mmseg``, no seed) and our model, dataset and schedule bases, which
name our checkpoint hook, loop, sampler and loaders as
``mmmaskformer.<Name>``. Trained by mmseg's ``tools/train.py`` (as installed
with mmseg), it gets them all: a run killed with SIGKILL and resumed with
mmseg's ``--resume`` ends bit-identical to an uninterrupted run with the
seed the killed run drew, a bad image is skipped and named in the log, and
with ``bad_sample='error'`` the run stops naming it.
"""
import os
import os.path as osp
import random
import subprocess
import sys

import cv2
import mmseg
import pytest
import torch

from mmmaskformer.datasets import make_sample
from mmmaskformer.utils.checkpoint import safe_load

pytestmark = pytest.mark.slow

REPO = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
MMSEG_TRAIN = osp.join(osp.dirname(mmseg.__file__), '.mim', 'tools',
                       'train.py')
MAX_ITERS = 8

CONFIG = '''
_base_ = [
    'mmseg::_base_/default_runtime.py',
    '{repo}/configs/_base_/models/maskformer_r50.py',
    '{repo}/configs/_base_/datasets/ade20k_maskformer.py',
    '{repo}/configs/_base_/schedules/schedule_160k_adamw.py',
]
custom_imports = dict(imports=['mmmaskformer'], allow_failed_imports=False)
# a tiny ResNet-18 instead of the pretrained R50, on 64x64 crops
model = dict(
    data_preprocessor=dict(size=(64, 64)),
    backbone=dict(depth=18, stem_channels=16, base_channels=16,
                  init_cfg=None),
    decode_head=dict(
        in_channels=[16, 32, 64, 128],
        pixel_decoder=dict(conv_dim=64, mask_dim=64),
        transformer_decoder=dict(hidden_dim=64, num_queries=20, num_heads=4,
                                 dim_feedforward=256, num_layers=3)))
'''


def write_ade_like(root, bad=False, n=5):
    """``n`` ADE20K-style samples (JPEG images, PNG labels 0..5, 0 = the
    ignored "other"); with ``bad`` one more whose image is not an image."""
    for sub in ('images/training', 'annotations/training',
                'images/validation', 'annotations/validation'):
        os.makedirs(osp.join(root, sub), exist_ok=True)
    for split, count in (('training', n), ('validation', 2)):
        for i in range(count):
            img, sem, _ = make_sample(i + (0 if split == 'training' else 100),
                                      size=64)
            cv2.imwrite(osp.join(root, 'images', split, f'{i:05d}.jpg'),
                        img[..., ::-1])
            cv2.imwrite(osp.join(root, 'annotations', split, f'{i:05d}.png'),
                        sem)
    if bad:
        cv2.imwrite(osp.join(root, 'annotations', 'training', 'broken.png'),
                    sem)
        with open(osp.join(root, 'images', 'training', 'broken.jpg'),
                  'w') as f:
            f.write('not an image\n' * 10)
    return root


def options(root, extra=()):
    pipe = 'train_dataloader.dataset.pipeline'
    opts = [f'{d}.dataset.data_root={root}' for d in
            ('train_dataloader', 'val_dataloader', 'test_dataloader')]
    opts += [f'{pipe}.2.scales=[64,72,80]', f'{pipe}.3.crop_size=(64,64)',
             f'{pipe}.6.size=(64,64)',
             'val_dataloader.dataset.pipeline.1.scale=64',
             'test_dataloader.dataset.pipeline.1.scale=64',
             'train_dataloader.batch_size=2',
             'train_dataloader.num_workers=1',
             'val_dataloader.num_workers=0',
             'val_dataloader.persistent_workers=False',
             'test_dataloader.num_workers=0',
             'test_dataloader.persistent_workers=False',
             f'train_cfg.max_iters={MAX_ITERS}',
             f'train_cfg.val_interval={MAX_ITERS}',
             f'param_scheduler.0.end={MAX_ITERS}',
             'default_hooks.checkpoint.interval=2',
             'default_hooks.logger.interval=1',
             'env_cfg.cudnn_benchmark=False']
    return ['--cfg-options'] + opts + list(extra)


@pytest.fixture(scope='module')
def config(tmp_path_factory):
    path = tmp_path_factory.mktemp('project') / 'maskformer_tiny_ade.py'
    path.write_text(CONFIG.format(repo=REPO))
    return str(path)


def mmseg_train(config, work, opts, extra=()):
    return [MMSEG_TRAIN, config, '--work-dir', work] + list(extra) + opts


def test_mmseg_train_tool_is_installed():
    assert osp.isfile(MMSEG_TRAIN), MMSEG_TRAIN


def test_kill_and_resume_under_mmseg_train_is_bit_identical(
        config, tmp_path, run_tool, tool_env):
    root = write_ade_like(str(tmp_path / 'ade'), bad=True)
    opts = options(root, ['train_cfg.max_bad_fraction=1.0'])
    fixed = os.environ.get('MMMASKFORMER_KILL_AT')
    kill_at = int(fixed) if fixed else random.Random().randint(4, 7)
    replay = f'(kill point {kill_at}: MMMASKFORMER_KILL_AT={kill_at})'
    print(replay)
    work = str(tmp_path / 'killed')
    proc = subprocess.Popen(
        [sys.executable] + mmseg_train(config, work, opts), cwd=str(tmp_path),
        env=tool_env(), stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
        text=True)
    seen = []
    for line in proc.stdout:
        seen.append(line)
        if f'Iter(train) [{kill_at}/{MAX_ITERS}]' in line:
            proc.kill()
            break
    proc.wait(timeout=60)
    before = ''.join(seen)
    assert proc.returncode == -9, f'{replay}\n{before[-3000:]}'
    # ours, not mmengine's: the loop, the sampler's seed, the loaders
    assert 'broken.jpg' in before and 'bad sample(s)' in before, \
        f'{replay}\n{before[-3000:]}'

    log = run_tool(mmseg_train(config, work, opts, ['--resume']),
                   cwd=str(tmp_path))
    assert 'resumed exactly at iteration' in log, f'{replay}\n{log[-3000:]}'
    final = safe_load(osp.join(work, f'iter_{MAX_ITERS}.pth'))
    seed = final['meta']['resume_state']['seed']

    reference = str(tmp_path / 'reference')
    run_tool(mmseg_train(config, reference, opts +
                         [f'randomness.seed={seed}']), cwd=str(tmp_path))
    ref = safe_load(osp.join(reference, f'iter_{MAX_ITERS}.pth'))
    for k, v in ref['state_dict'].items():
        assert torch.equal(v, final['state_dict'][k]), (k, replay)
    for key in ('samples_seen', 'draws', 'bad_samples'):
        assert final['meta']['resume_state'][key] == \
            ref['meta']['resume_state'][key], (key, replay)
    # the checkpoints are ours (atomic: no partial file left behind)
    assert not [n for n in os.listdir(work) if n.endswith('.tmp')]


def test_bad_image_stops_the_run_under_mmseg_train(config, tmp_path,
                                                   run_tool,
                                                   stopped_cleanly):
    root = write_ade_like(str(tmp_path / 'ade'), bad=True)
    opts = options(root, ['train_cfg.bad_sample=error',
                          'train_dataloader.sampler.shuffle=False'])
    out = run_tool(mmseg_train(config, str(tmp_path / 'w'), opts),
                   expect_rc=1, cwd=str(tmp_path))
    msg = stopped_cleanly(out, 'BadSampleError')
    assert osp.join(root, 'images', 'training', 'broken.jpg') in msg
