"""tools/analysis/confusion_matrix.py on predictions written like
tools/test.py --out: counts equal a brute-force count of the files."""
import os.path as osp
import sys

import numpy as np
import pytest
from PIL import Image

from mmmaskformer.datasets import generate_synthetic_dataset

REPO = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
sys.path.insert(0, osp.join(REPO, 'tools', 'analysis'))
CONFIG = osp.join(REPO, 'configs', 'maskformer_r18-tiny_synthetic-64x64.py')


def test_confusion_matrix_counts_and_plot(tmp_path):
    from confusion_matrix import main
    root = generate_synthetic_dataset(str(tmp_path / 'syn'), num_train=1,
                                      num_val=3, progress=False)
    ann = osp.join(root, 'ann_dir', 'val')
    preds = tmp_path / 'preds'
    preds.mkdir()
    expected = np.zeros((6, 6), np.int64)
    for i, name in enumerate(('00000', '00001', '00002')):
        gt = np.asarray(Image.open(osp.join(ann, f'{name}.png'))).astype(int)
        pred = gt.copy() if i != 1 else np.full_like(gt, 4)  # one all-"4"
        if i == 2:
            pred[:, :10] = 0  # a stripe of class 0
        Image.fromarray(pred.astype(np.uint8)).save(preds / f'{name}.png')
        for g, p in zip(gt.ravel(), pred.ravel()):
            if g != 255:
                expected[g, p] += 1
    opts = ['--cfg-options', f'test_dataloader.dataset.data_root={root}']
    matrix = main([CONFIG, str(preds), str(tmp_path / 'cm')] + opts)
    assert np.array_equal(matrix, expected)
    assert np.array_equal(np.load(tmp_path / 'cm' / 'confusion_matrix.npy'),
                          expected)
    assert osp.getsize(tmp_path / 'cm' / 'confusion_matrix.png') > 1000
    # a missing prediction is named
    (preds / '00001.png').unlink()
    with pytest.raises(FileNotFoundError, match='00001.png: no prediction'):
        main([CONFIG, str(preds), str(tmp_path / 'cm')] + opts)
