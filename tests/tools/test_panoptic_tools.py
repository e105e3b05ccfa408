"""Panoptic end to end through the tools on generated data (CPU): train,
test with --out (PNG + JSON) and --show-dir; the saved files score the same
PQ with panopticapi."""
import glob
import json
import os
import os.path as osp
import subprocess
import sys

import pytest
from panopticapi.evaluation import pq_compute

from mmmaskformer.datasets import generate_synthetic_dataset

REPO = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
CONFIG = osp.join(REPO, 'configs',
                  'maskformer_r18-tiny_synthetic-panoptic-64x64.py')


@pytest.fixture(scope='module')
def data_root(tmp_path_factory):
    root = str(tmp_path_factory.mktemp('synthetic_panoptic'))
    return generate_synthetic_dataset(root, num_train=6, num_val=3,
                                      progress=False)


def run(args):
    proc = subprocess.run([sys.executable] + args, cwd=REPO,
                          capture_output=True, text=True, timeout=600)
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    return proc.stdout + proc.stderr


@pytest.mark.slow
def test_panoptic_train_test_out_show(data_root, tmp_path, panoptic_options):
    work = str(tmp_path / 'train')
    log = run(['tools/train.py', CONFIG, '--work-dir', work] +
              panoptic_options(data_root, 2))
    assert 'coco_panoptic/PQ' in log
    out, show = str(tmp_path / 'out'), str(tmp_path / 'show')
    log = run(['tools/test.py', CONFIG, osp.join(work, 'iter_2.pth'),
               '--work-dir', str(tmp_path / 'test'), '--out', out,
               '--show-dir', show] + panoptic_options(data_root, 2))
    pred_json = osp.join(out, 'panoptic.panoptic.json')
    with open(pred_json) as f:
        pred = json.load(f)
    assert len(pred['annotations']) == 3
    assert len(glob.glob(osp.join(out, 'panoptic.panoptic', '*.png'))) == 3
    assert len(glob.glob(osp.join(show, '*.png'))) == 3
    metrics = sorted(glob.glob(osp.join(str(tmp_path / 'test'), '*',
                                        '*.json')), key=os.path.getmtime)
    with open(metrics[-1]) as f:
        ours = json.load(f)
    ref = pq_compute(osp.join(data_root, 'annotations', 'panoptic_val.json'),
                     pred_json,
                     osp.join(data_root, 'annotations', 'panoptic_val'),
                     osp.join(out, 'panoptic.panoptic'))
    assert abs(ours['coco_panoptic/PQ'] - 100 * ref['All']['pq']) < 1e-3
