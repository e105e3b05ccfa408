"""N processes x batch b against 1 process x batch N*b, on generated data.

    python tools/analysis/ddp_equivalence.py [--images 24] [--iters 3]
        [--work-dir work_dirs/ddp_equivalence]

Trains the tiny demo model from one saved initialisation with frozen BN,
the class loss off and plain SGD without clipping (so a wrong scale on one
rank shows), once with ``tools/train.py`` at batch 8 and once with
``tools/dist_train.sh`` at 2 x 4 (gloo on the CPU), and prints the relative
difference of the two weight updates, ``||dW_2x4 - dW_1x8|| / ||dW_1x8||``,
for each variant:

* ``ours``: our ``InfiniteSampler`` with per-sample seeds (the default);
* ``mmengine-sampler``: mmengine's ``InfiniteSampler`` (no per-sample seeds),
  random flips on;
* ``mmengine-sampler-noflip``: the same without the random flip.
"""
import argparse
import json
import os
import os.path as osp
import subprocess
import sys

REPO = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
sys.path.insert(0, REPO)

TINY = osp.join(REPO, 'configs', 'maskformer_r18-tiny_synthetic-64x64.py')
CONFIG = '''
_base_ = ['{tiny}']
model = dict(
    backbone=dict(norm_cfg=dict(type='BN', requires_grad=False),
                  norm_eval=True),
    decode_head=dict(criterion=dict(class_weight=0.0)))
optim_wrapper = dict(
    _delete_=True, type='mmmaskformer.FiniteLossOptimWrapper',
    optimizer=dict(type='SGD', lr=0.05, momentum=0.0, weight_decay=0.0))
'''
VARIANTS = {
    'ours': [],
    'mmengine-sampler': ['train_dataloader.sampler.type=InfiniteSampler'],
    'mmengine-sampler-noflip': [
        'train_dataloader.sampler.type=InfiniteSampler',
        'train_dataloader.dataset.pipeline.2.prob=0.0'],
}


def write_setup(work_dir: str, images: int):
    """Data, the config and one saved initialisation."""
    import torch
    from mmengine.config import Config
    from mmengine.registry import init_default_scope

    import mmmaskformer  # noqa: F401
    from mmmaskformer.datasets import generate_synthetic_dataset
    from mmmaskformer.registry import MODELS
    os.makedirs(work_dir, exist_ok=True)
    root = generate_synthetic_dataset(osp.join(work_dir, 'data'),
                                      num_train=images, num_val=2,
                                      progress=False)
    config = osp.join(work_dir, 'ddp.py')
    with open(config, 'w') as f:
        f.write(CONFIG.format(tiny=TINY))
    from mmengine.logging import MMLogger
    MMLogger.get_instance('ddp_equivalence', log_level='WARNING')
    init_default_scope('mmmaskformer')
    torch.manual_seed(0)
    model = MODELS.build(Config.fromfile(config).model)
    model.init_weights()
    init = osp.join(work_dir, 'init.pth')
    torch.save(dict(state_dict=model.state_dict()), init)
    return root, config, init


def train_options(root, init, iters, batch, extra=()):
    persistent = 'False'
    return ['--cfg-options'] + [
        f'train_dataloader.dataset.data_root={root}',
        f'val_dataloader.dataset.data_root={root}',
        f'test_dataloader.dataset.data_root={root}',
        f'train_dataloader.batch_size={batch}',
        'train_dataloader.num_workers=0',
        f'train_dataloader.persistent_workers={persistent}',
        'val_dataloader.num_workers=0',
        'val_dataloader.persistent_workers=False',
        f'train_cfg.max_iters={iters}', f'train_cfg.val_interval={iters}',
        f'param_scheduler.0.end={iters}', f'load_from={init}'
    ] + list(extra)


def run_pair(root, config, init, work_dir, iters, extra=(), port=29551):
    """(1 x 8 checkpoint, 2 x 4 checkpoint)."""
    one, two = osp.join(work_dir, 'one'), osp.join(work_dir, 'two')
    env = dict(os.environ, PYTHON=sys.executable, PORT=str(port),
               OMP_NUM_THREADS='1')
    for cmd in (
        [sys.executable, 'tools/train.py', config, '--work-dir', one] +
            train_options(root, init, iters, 8, extra),
        ['bash', 'tools/dist_train.sh', config, '2', '--work-dir', two] +
            train_options(root, init, iters, 4, extra)):
        proc = subprocess.run(cmd, cwd=REPO, env=env, capture_output=True,
                              text=True, timeout=900)
        if proc.returncode != 0:
            raise RuntimeError(proc.stdout[-3000:] + proc.stderr[-3000:])
    return (osp.join(one, f'iter_{iters}.pth'),
            osp.join(two, f'iter_{iters}.pth'))


def relative_update_difference(init, a, b) -> float:
    from mmmaskformer.utils.checkpoint import safe_load
    w0 = safe_load(init)['state_dict']
    wa, wb = safe_load(a)['state_dict'], safe_load(b)['state_dict']
    num = den = 0.0
    for k, v in w0.items():
        if not v.is_floating_point():
            continue
        da, db = wa[k] - v, wb[k] - v
        num += (da - db).double().pow(2).sum().item()
        den += da.double().pow(2).sum().item()
    if den == 0:
        raise ValueError('the weights did not move')
    return (num / den)**0.5


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('--images', type=int, default=24)
    parser.add_argument('--iters', type=int, default=3)
    parser.add_argument('--variants', nargs='+', default=list(VARIANTS))
    parser.add_argument('--work-dir', default='work_dirs/ddp_equivalence')
    args = parser.parse_args()
    root, config, init = write_setup(args.work_dir, args.images)
    results = {}
    for i, name in enumerate(args.variants):
        a, b = run_pair(root, config, init, osp.join(args.work_dir, name),
                        args.iters, VARIANTS[name], port=29551 + i)
        results[name] = relative_update_difference(init, a, b)
        print(f'{name}: relative difference of the updates, 2x4 vs 1x8: '
              f'{results[name]:.3g}', flush=True)
    with open(osp.join(args.work_dir, 'results.json'), 'w') as f:
        json.dump(dict(images=args.images, iters=args.iters,
                       results=results), f, indent=2)


if __name__ == '__main__':
    main()
