"""Fixtures shared by the whole suite.

Tools are run as fresh subprocesses (``run_tool``), exactly as a user runs
them; ``data_options`` and ``panoptic_options`` shrink the tiny configs to a
few iterations on a generated dataset.
"""
import os
import os.path as osp
import subprocess
import sys

import pytest

REPO = osp.dirname(osp.dirname(osp.abspath(__file__)))

# The fast tier checks every per-config rule on the demo configs and on one
# full-size config per model family and data path; the same checks on the
# rest of the model zoo (each builds a full-size model) are in the slow tier.
FAST_CONFIGS = frozenset([
    'maskformer_r50_ade20k', 'maskformer_r50_coco-panoptic',
    'mask2former_r50_ade20k', 'mask2former_r50_cityscapes-panoptic',
])
CONFIG_STEMS = frozenset(
    osp.splitext(name)[0] for name in os.listdir(osp.join(REPO, 'configs'))
    if name.endswith('.py'))


def zoo_config_of(value) -> str:
    """The config stem a test parameter names (a path, a file name or a
    stem of ``configs/*.py``), or ''."""
    if not isinstance(value, str):
        return ''
    stem = osp.splitext(osp.basename(value))[0]
    return stem if stem in CONFIG_STEMS else ''


def pytest_collection_modifyitems(config, items):
    for item in items:
        params = getattr(getattr(item, 'callspec', None), 'params', {})
        for value in params.values():
            values = value if isinstance(value, (tuple, list)) else (value, )
            stems = [zoo_config_of(v) for v in values]
            if any(s and 'tiny' not in s and s not in FAST_CONFIGS
                   for s in stems):
                item.add_marker(pytest.mark.slow)
                break


def shared_dir() -> str:
    """The project's shared material (papers, golden data, CamVid)."""
    return os.environ.get('MMMASKFORMER_SHARED', osp.join(REPO, '..', 'shared'))


@pytest.fixture(scope='session')
def shared():
    path = shared_dir()
    if not osp.isdir(path):
        if os.environ.get('MMMASKFORMER_REQUIRE_SHARED'):
            pytest.fail(f'shared material not found at {path}')
        pytest.skip(f'shared material not found at {path} '
                    '(set MMMASKFORMER_SHARED)')
    return path


@pytest.fixture(scope='session')
def repo() -> str:
    """The repository root (tools run with it as the working directory)."""
    return REPO


@pytest.fixture(scope='session')
def tiny_config() -> str:
    return osp.join(REPO, 'configs', 'maskformer_r18-tiny_synthetic-64x64.py')


@pytest.fixture(scope='session')
def tiny_panoptic_config() -> str:
    return osp.join(REPO, 'configs',
                    'maskformer_r18-tiny_synthetic-panoptic-64x64.py')


def _data_options(data_root, max_iters, ckpt_interval=None, batch_size=2,
                  workers=0):
    persistent = 'True' if workers else 'False'
    opts = [
        f'train_dataloader.dataset.data_root={data_root}',
        f'val_dataloader.dataset.data_root={data_root}',
        f'test_dataloader.dataset.data_root={data_root}',
        f'train_dataloader.batch_size={batch_size}',
        f'train_dataloader.num_workers={workers}',
        f'train_dataloader.persistent_workers={persistent}',
        'val_dataloader.num_workers=0', 'val_dataloader.persistent_workers=False',
        'test_dataloader.num_workers=0',
        'test_dataloader.persistent_workers=False',
        f'train_cfg.max_iters={max_iters}', f'train_cfg.val_interval={max_iters}',
        f'param_scheduler.0.end={max_iters}', 'default_hooks.logger.interval=1'
    ]
    if ckpt_interval:
        opts.append(f'default_hooks.checkpoint.interval={ckpt_interval}')
    return opts


@pytest.fixture(scope='session')
def data_options():
    """``data_options(data_root, max_iters, ckpt_interval=None, batch_size=2,
    workers=0)``: --cfg-options for a short run of a tiny semantic config."""
    return _data_options


def _panoptic_options(root, iters):
    root = root.rstrip('/') + '/'
    return ['--cfg-options'] + [
        f'{d}.dataset.data_root={root}'
        for d in ('train_dataloader', 'val_dataloader', 'test_dataloader')
    ] + [
        f'{e}.ann_file={root}annotations/panoptic_val.json'
        for e in ('val_evaluator', 'test_evaluator')
    ] + [
        f'{e}.seg_prefix={root}annotations/panoptic_val/'
        for e in ('val_evaluator', 'test_evaluator')
    ] + [
        'train_dataloader.batch_size=2', 'train_dataloader.num_workers=0',
        'train_dataloader.persistent_workers=False',
        'val_dataloader.num_workers=0',
        'val_dataloader.persistent_workers=False',
        'test_dataloader.num_workers=0',
        'test_dataloader.persistent_workers=False',
        f'train_cfg.max_iters={iters}', f'train_cfg.val_interval={iters}',
        f'param_scheduler.0.end={iters}',
        # an untrained model is never confident: keep every query
        'model.test_cfg.object_mask_threshold=0.0',
        'model.test_cfg.overlap_threshold=0.0'
    ]


@pytest.fixture(scope='session')
def panoptic_options():
    """``panoptic_options(root, iters)``: ``--cfg-options ...`` for a short
    run of a tiny panoptic config."""
    return _panoptic_options


def _tool_env():
    return dict(os.environ, PYTHONUNBUFFERED='1', OMP_NUM_THREADS='2')


@pytest.fixture(scope='session')
def tool_env():
    """``tool_env()``: the environment tools run with (2 threads)."""
    return _tool_env


def _run_tool(args, expect_rc=0, cwd=REPO, env=None, timeout=600):
    proc = subprocess.run([sys.executable] + list(args), cwd=cwd,
                          env=env or _tool_env(), capture_output=True,
                          text=True, timeout=timeout)
    out = proc.stdout + proc.stderr
    assert proc.returncode == expect_rc, \
        f'exit {proc.returncode} (expected {expect_rc}):\n{out[-4000:]}'
    return out


@pytest.fixture(scope='session')
def run_tool():
    """``run_tool(args, expect_rc=0, cwd=REPO, env=None, timeout=600)``: run
    ``python args...`` as a fresh process, assert the exit code, return
    stdout+stderr."""
    return _run_tool


def _stopped_cleanly(out: str, error: str) -> str:
    assert f'ERROR ({error})' in out, out[-3000:]
    assert 'Traceback' not in out, out[-3000:]
    return out.split(f'ERROR ({error}):', 1)[1]


@pytest.fixture(scope='session')
def stopped_cleanly():
    """``stopped_cleanly(out, error)``: the single ERROR message of a stopped
    run (and no traceback)."""
    return _stopped_cleanly
