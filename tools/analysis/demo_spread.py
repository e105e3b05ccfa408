"""The demo's score at several thread counts (and seeds): what to expect.

    python tools/analysis/demo_spread.py [--threads 1 2] [--seeds 0]
        [--task semantic|panoptic|instance] [--model maskformer|mask2former]

Runs ``tools/demo.py`` once per (thread count, seed) with
``OMP_NUM_THREADS``/``MKL_NUM_THREADS`` set, each in its own work dir
(``work_dirs/demo-spread/t{threads}-s{seed}``), and prints every score and
the spread. A run is deterministic for a given machine, thread count and
seed; float32 reductions split over another number of threads round
differently, and 1500 iterations of training amplify that, so other thread
counts (and other machines) give other numbers within the spread.
"""
import argparse
import json
import os
import os.path as osp
import subprocess
import sys

REPO = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('--threads', type=int, nargs='+', default=[1, 2])
    parser.add_argument('--seeds', type=int, nargs='+', default=[0])
    parser.add_argument('--task', default='semantic',
                        choices=['semantic', 'panoptic', 'instance'])
    parser.add_argument('--model', default='maskformer',
                        choices=['maskformer', 'mask2former'])
    parser.add_argument('--work-dir', default=osp.join(REPO, 'work_dirs',
                                                       'demo-spread'))
    args = parser.parse_args()
    if (args.model, args.task) == ('maskformer', 'instance'):
        parser.error('MaskFormer scores instances of its panoptic model: '
                     'use --task panoptic (tools/demo.py --task instance '
                     '--checkpoint scores one)')
    key = dict(semantic='mIoU', panoptic='PQ', instance='segm_mAP')[args.task]
    scale = 100 if args.task == 'instance' else 1  # mmdet's AP is in [0, 1]
    name = args.task if args.model == 'maskformer' else \
        f'{args.model}-{args.task}'
    results = {}
    for threads in args.threads:
        for seed in args.seeds:
            work = osp.join(args.work_dir, f'{name}-t{threads}-s{seed}')
            env = dict(os.environ, OMP_NUM_THREADS=str(threads),
                       MKL_NUM_THREADS=str(threads))
            cmd = [sys.executable, 'tools/demo.py', '--model', args.model,
                   '--task', args.task, '--work-dir', work, '--seed',
                   str(seed)]
            subprocess.run(cmd, cwd=REPO, env=env, check=True)
            with open(osp.join(work, 'summary.json')) as f:
                results[f'threads={threads} seed={seed}'] = \
                    scale * json.load(f)[key]
            print(f'[spread] threads={threads} seed={seed}: {key} '
                  f'{results[f"threads={threads} seed={seed}"]:.2f}',
                  flush=True)
    values = list(results.values())
    print(f'[spread] {key}: ' + ', '.join(f'{k}: {v:.2f}'
                                          for k, v in results.items()) +
          f'; min {min(values):.2f}, max {max(values):.2f}, spread '
          f'{max(values) - min(values):.2f}')
    with open(osp.join(args.work_dir, f'{name}.json'), 'w') as f:
        json.dump(results, f, indent=2)


if __name__ == '__main__':
    main()
