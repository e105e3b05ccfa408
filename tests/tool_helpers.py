"""Running tools/train.py and tools/test.py from tests (shared helpers)."""
import os
import os.path as osp
import subprocess
import sys

REPO = osp.dirname(osp.dirname(osp.abspath(__file__)))
TINY = osp.join(REPO, 'configs', 'maskformer_r18-tiny_synthetic-64x64.py')
TINY_PANOPTIC = osp.join(REPO, 'configs',
                         'maskformer_r18-tiny_synthetic-panoptic-64x64.py')


def data_options(data_root, max_iters, ckpt_interval=None, batch_size=2,
                 workers=0):
    """--cfg-options for a short run of the tiny semantic config."""
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


def panoptic_options(root, iters):
    """--cfg-options for a short run of the tiny panoptic config."""
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


def tool_env():
    return dict(os.environ, PYTHONUNBUFFERED='1', OMP_NUM_THREADS='2')


def run_tool(args, expect_rc=0, cwd=REPO, env=None, timeout=600):
    """Run ``python args...``; assert the exit code; return stdout+stderr."""
    proc = subprocess.run([sys.executable] + list(args), cwd=cwd,
                          env=env or tool_env(), capture_output=True,
                          text=True, timeout=timeout)
    out = proc.stdout + proc.stderr
    assert proc.returncode == expect_rc, \
        f'exit {proc.returncode} (expected {expect_rc}):\n{out[-4000:]}'
    return out


def stopped_cleanly(out: str, error: str) -> str:
    """The single ERROR message of a stopped run (and no traceback)."""
    assert f'ERROR ({error})' in out, out[-3000:]
    assert 'Traceback' not in out, out[-3000:]
    return out.split(f'ERROR ({error}):', 1)[1]
