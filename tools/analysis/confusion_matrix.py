"""Confusion matrix of a semantic model's saved predictions.

    python tools/test.py CONFIG CKPT --out work_dirs/preds
    python tools/analysis/confusion_matrix.py CONFIG work_dirs/preds work_dirs/cm \
        [--cfg-options ...]

Reads the label PNGs that ``tools/test.py --out`` writes (one per test
image, named after it; 8- or 16-bit; mmseg's ``+1`` for
``reduce_zero_label`` datasets undone), compares them with the test split's
ground truth through the config's test pipeline, and writes
``confusion_matrix.npy`` (counts, rows = ground truth, columns =
prediction, ignore pixels left out) and ``confusion_matrix.png`` (rows
normalised to %). mmseg's own ``confusion_matrix.py`` builds the dataset in
mmseg's registry, where our dataset types (the demo's, ADE20K-Full) do not
exist.
"""
import argparse
import os
import os.path as osp
import sys

sys.path.insert(0, osp.dirname(osp.dirname(osp.dirname(osp.abspath(
    __file__)))))

import numpy as np  # noqa: E402
from mmengine.config import DictAction  # noqa: E402
from mmengine.utils import ProgressBar  # noqa: E402
from PIL import Image  # noqa: E402


def confusion_matrix(dataset, pred_dir: str, progress=True) -> np.ndarray:
    num_classes = len(dataset.metainfo['classes'])
    ignore = dataset.ignore_index
    matrix = np.zeros((num_classes, num_classes), np.int64)
    bar = ProgressBar(len(dataset)) if progress else None
    for i in range(len(dataset)):
        sample = dataset[i]['data_samples']
        name = osp.splitext(osp.basename(sample.img_path))[0]
        path = osp.join(pred_dir, f'{name}.png')
        if not osp.isfile(path):
            raise FileNotFoundError(f'{path}: no prediction for '
                                    f'{sample.img_path}')
        pred = np.asarray(Image.open(path)).astype(np.int64)
        if sample.get('reduce_zero_label', False):
            pred = pred - 1
        gt = sample.gt_sem_seg.data[0].numpy().astype(np.int64)
        if pred.shape != gt.shape:
            raise ValueError(f'{path}: prediction {pred.shape} but ground '
                             f'truth {gt.shape} for {sample.img_path}')
        valid = gt != ignore
        if ((pred[valid] < 0) | (pred[valid] >= num_classes)).any():
            raise ValueError(f'{path}: predicted ids outside '
                             f'[0, {num_classes})')
        matrix += np.bincount(gt[valid] * num_classes + pred[valid],
                              minlength=num_classes**2).reshape(
                                  num_classes, num_classes)
        if bar:
            bar.update()
    return matrix


def plot(matrix, classes, out, title='confusion matrix (% of each row)'):
    import matplotlib
    matplotlib.use('Agg')
    import matplotlib.pyplot as plt
    rows = matrix.sum(1, keepdims=True)
    percent = 100 * matrix / np.maximum(rows, 1)
    n = len(classes)
    fig, ax = plt.subplots(figsize=(max(6, 0.5 * n), max(5, 0.45 * n)))
    im = ax.imshow(percent, cmap='Blues', vmin=0, vmax=100)
    fig.colorbar(im, ax=ax)
    ax.set_xticks(range(n), classes, rotation=90)
    ax.set_yticks(range(n), classes)
    ax.set_xlabel('prediction')
    ax.set_ylabel('ground truth')
    ax.set_title(title)
    if n <= 30:
        for r in range(n):
            for c in range(n):
                ax.text(c, r, f'{percent[r, c]:.0f}', ha='center',
                        va='center', fontsize=7,
                        color='white' if percent[r, c] > 50 else 'black')
    fig.tight_layout()
    fig.savefig(out)
    plt.close(fig)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('config')
    parser.add_argument('pred_dir', help='tools/test.py --out folder')
    parser.add_argument('save_dir')
    parser.add_argument('--cfg-options', nargs='+', action=DictAction)
    args = parser.parse_args(argv)
    from mmmaskformer.utils.tool_config import build_dataset
    dataset, _ = build_dataset(args.config, args.cfg_options)
    matrix = confusion_matrix(dataset, args.pred_dir,
                              progress=sys.stdout.isatty())
    os.makedirs(args.save_dir, exist_ok=True)
    np.save(osp.join(args.save_dir, 'confusion_matrix.npy'), matrix)
    classes = list(dataset.metainfo['classes'])
    plot(matrix, classes, osp.join(args.save_dir, 'confusion_matrix.png'))
    accuracy = np.diag(matrix) / np.maximum(matrix.sum(1), 1)
    for name, acc in zip(classes, accuracy):
        print(f'{name:>20s}: {100 * acc:6.2f}% of its pixels right')
    return matrix


if __name__ == '__main__':
    main()
