"""A downstream OpenMMLab project, outside this repo, inherits our config,
registers its own dataset, overrides the dataset and ``num_classes``, and
trains with MMSegmentation's own ``tools/train.py``."""
import glob
import json
import os
import os.path as osp
import subprocess
import sys

import cv2
import numpy as np
import torch

import mmseg

REPO = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
MMSEG_TRAIN = osp.join(osp.dirname(mmseg.__file__), '.mim', 'tools',
                       'train.py')

DATASET_MODULE = '''
from mmseg.datasets import BaseSegDataset
from mmseg.registry import DATASETS


@DATASETS.register_module()
class HalvesDataset(BaseSegDataset):
    """Left half / right half / a square: three classes."""
    METAINFO = dict(classes=('left', 'right', 'square'),
                    palette=[[255, 0, 0], [0, 255, 0], [0, 0, 255]])

    def __init__(self, **kwargs):
        super().__init__(img_suffix='.png', seg_map_suffix='.png', **kwargs)
'''

CONFIG = '''
_base_ = [{base!r}]
custom_imports = dict(imports=['mmmaskformer', 'halves'],
                      allow_failed_imports=False)
data_root = {root!r}
model = dict(decode_head=dict(num_classes=3))
train_dataloader = dict(
    batch_size=2, num_workers=0, persistent_workers=False,
    dataset=dict(type='HalvesDataset', data_root=data_root,
                 data_prefix=dict(img_path='img', seg_map_path='ann')))
val_dataloader = dict(
    num_workers=0, persistent_workers=False,
    dataset=dict(type='HalvesDataset', data_root=data_root,
                 data_prefix=dict(img_path='img', seg_map_path='ann')))
test_dataloader = val_dataloader
train_cfg = dict(max_iters=3, val_interval=3)
param_scheduler = [dict(type='PolyLR', power=0.9, begin=0, end=3,
                        by_epoch=False)]
'''


def make_data(root, n=4, size=64):
    rng = np.random.default_rng(0)
    for d in ('img', 'ann'):
        os.makedirs(osp.join(root, d), exist_ok=True)
    for i in range(n):
        ann = np.zeros((size, size), np.uint8)
        ann[:, size // 2:] = 1
        y, x = rng.integers(0, size - 16, 2)
        ann[y:y + 16, x:x + 16] = 2
        img = np.array([[200, 30, 30], [30, 200, 30], [30, 30, 200]],
                       np.uint8)[ann]
        cv2.imwrite(osp.join(root, 'img', f'{i}.png'), img)
        cv2.imwrite(osp.join(root, 'ann', f'{i}.png'), ann)


def test_downstream_project_inherits_and_overrides(tmp_path):
    project = tmp_path / 'my_project'
    (project / 'configs').mkdir(parents=True)
    (project / 'halves.py').write_text(DATASET_MODULE)
    make_data(str(project / 'data'))
    base = osp.join(REPO, 'configs', 'maskformer_r18-tiny_synthetic-64x64.py')
    cfg_path = project / 'configs' / 'maskformer_halves.py'
    cfg_path.write_text(CONFIG.format(base=base, root=str(project / 'data')))

    env = dict(os.environ, PYTHONPATH=str(project))
    work = str(project / 'work_dirs')
    proc = subprocess.run(
        [sys.executable, MMSEG_TRAIN, str(cfg_path), '--work-dir', work],
        cwd=str(project), env=env, capture_output=True, text=True,
        timeout=600)
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    out = proc.stdout + proc.stderr
    assert 'mIoU' in out and 'square' in out  # the overriding dataset
    ckpt = torch.load(osp.join(work, 'iter_3.pth'), weights_only=False)
    # num_classes overridden: 3 classes + no-object
    assert ckpt['state_dict']['decode_head.cls_embed.weight'].shape[0] == 4
    # and the run is ours: our head's keys, not mmseg's MaskFormerHead's
    assert 'decode_head.transformer_decoder.query_embed.weight' in \
        ckpt['state_dict']
    metrics = sorted(glob.glob(osp.join(work, '*', 'vis_data', 'scalars.json')))
    assert metrics, 'no scalars logged'
    with open(metrics[-1]) as f:
        assert any('mIoU' in json.loads(line) for line in f)
