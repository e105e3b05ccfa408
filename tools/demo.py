"""The main job on the embedded default: generate the demo dataset, train a
small MaskFormer on it with tools/train.py, score it with tools/test.py, and
compare with the majority-class baseline.

    python tools/demo.py [--work-dir work_dirs/demo] [--iters 1500]
"""
import argparse
import glob
import json
import os
import os.path as osp
import subprocess
import sys
import time

import cv2
import numpy as np

REPO = osp.dirname(osp.dirname(osp.abspath(__file__)))
CONFIG = osp.join(REPO, 'configs', 'maskformer_r18-tiny_synthetic-64x64.py')


def majority_baseline(data_root: str, num_classes: int) -> dict:
    """mIoU of predicting the most frequent training class everywhere."""
    def hist(split):
        h = np.zeros(num_classes, np.int64)
        for f in sorted(glob.glob(osp.join(data_root, 'ann_dir', split,
                                           '*.png'))):
            h += np.bincount(cv2.imread(f, cv2.IMREAD_UNCHANGED).ravel(),
                             minlength=256)[:num_classes]
        return h
    majority = int(hist('train').argmax())
    val = hist('val')
    iou = np.full(num_classes, np.nan)
    iou[val > 0] = 0.0
    iou[majority] = val[majority] / val.sum()
    return dict(class_index=majority, mIoU=float(np.nanmean(iou) * 100))


def run(cmd):
    print('$ ' + ' '.join(cmd), flush=True)
    subprocess.run(cmd, check=True, cwd=REPO)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('--work-dir', default=osp.join(REPO, 'work_dirs',
                                                       'demo'))
    parser.add_argument('--data-root', default=osp.join(REPO, 'data',
                                                        'synthetic'))
    parser.add_argument('--iters', type=int, default=1500)
    args = parser.parse_args()
    sys.path.insert(0, REPO)
    from mmmaskformer.datasets import generate_synthetic_dataset
    from mmmaskformer.datasets.synthetic import CLASSES

    start = time.time()
    print(f'[demo] 1/3 generating the dataset in {args.data_root}', flush=True)
    generate_synthetic_dataset(args.data_root, progress=sys.stdout.isatty())
    options = [
        '--cfg-options', f'data_root={args.data_root}',
        f'train_dataloader.dataset.data_root={args.data_root}',
        f'val_dataloader.dataset.data_root={args.data_root}',
        f'test_dataloader.dataset.data_root={args.data_root}',
    ]
    print(f'[demo] 2/3 training for {args.iters} iterations', flush=True)
    train_dir = osp.join(args.work_dir, 'train')
    run([
        sys.executable, 'tools/train.py', CONFIG, '--work-dir', train_dir
    ] + options + [
        f'train_cfg.max_iters={args.iters}',
        f'train_cfg.val_interval={args.iters}',
        f'param_scheduler.0.end={args.iters}'
    ])
    checkpoint = osp.join(train_dir, f'iter_{args.iters}.pth')
    print('[demo] 3/3 scoring the checkpoint on the validation split',
          flush=True)
    test_dir = osp.join(args.work_dir, 'test')
    run([sys.executable, 'tools/test.py', CONFIG, checkpoint, '--work-dir',
         test_dir] + options)
    results = sorted(glob.glob(osp.join(test_dir, '*', '*.json')),
                     key=os.path.getmtime)
    with open(results[-1]) as f:
        metrics = json.load(f)
    baseline = majority_baseline(args.data_root, len(CLASSES))
    summary = dict(
        mIoU=metrics['mIoU'], aAcc=metrics['aAcc'], mAcc=metrics['mAcc'],
        majority_class_mIoU=round(baseline['mIoU'], 2),
        majority_class=CLASSES[baseline['class_index']],
        minutes=round((time.time() - start) / 60, 1), checkpoint=checkpoint)
    with open(osp.join(args.work_dir, 'summary.json'), 'w') as f:
        json.dump(summary, f, indent=2)
    print(f"[demo] mIoU {summary['mIoU']:.2f} (majority-class baseline "
          f"{summary['majority_class_mIoU']:.2f}), aAcc {summary['aAcc']:.2f},"
          f" {summary['minutes']} min; summary in "
          f"{osp.join(args.work_dir, 'summary.json')}")


if __name__ == '__main__':
    main()
