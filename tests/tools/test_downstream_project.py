"""A downstream OpenMMLab project, outside this repo, written exactly as
docs/downstream.md shows it: its own dataset module, a config inheriting
``maskformer_r50_ade20k.py``, trained with MMSegmentation's own
``tools/train.py`` from the project's folder."""
import glob
import json
import os
import os.path as osp
import re
import subprocess
import sys

import cv2
import numpy as np
import pytest
import torch

REPO = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
PLACEHOLDER = '/path/to/mmmaskformer'
# a short run of the documented config: 2 iterations, one image per batch
SHORT = ['train_cfg.max_iters=2', 'train_cfg.val_interval=2',
         'param_scheduler.0.end=2', 'train_dataloader.batch_size=1',
         'train_dataloader.num_workers=0',
         'train_dataloader.persistent_workers=False',
         'val_dataloader.num_workers=0',
         'val_dataloader.persistent_workers=False',
         'test_dataloader.num_workers=0',
         'test_dataloader.persistent_workers=False',
         'default_hooks.logger.interval=1']


def documented_blocks():
    """The fenced blocks of docs/downstream.md, in order: the dataset
    module, the config, the command."""
    with open(osp.join(REPO, 'docs', 'downstream.md')) as f:
        text = f.read()
    return re.findall(r'```(\w+)\n(.*?)```', text, re.S)


def make_data(root, n=3, size=64):
    """Two halves and a square: classes road, car, sign."""
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


def fresh_resnet50(path):
    """A pretrained-backbone file of the documented format (mmseg ResNet
    keys), from a freshly initialised ResNet-50."""
    from mmseg.models.backbones import ResNet
    torch.manual_seed(0)
    os.makedirs(osp.dirname(path), exist_ok=True)
    state = ResNet(depth=50).state_dict()
    # BN affine parameters are frozen in our configs: values a fresh model
    # would not have show that the file was loaded
    state['bn1.weight'] = torch.rand(64) + 0.5
    torch.save(state, path)


@pytest.mark.slow
def test_downstream_project_as_documented(tmp_path):
    (lang1, dataset_module), (lang2, config), (lang3, command) = \
        documented_blocks()
    assert (lang1, lang2, lang3) == ('python', 'python', 'bash')
    parent = tmp_path / 'parent'
    project = parent / 'my_project'
    (project / 'configs').mkdir(parents=True)
    (project / '__init__.py').write_text('')
    (project / 'datasets.py').write_text(dataset_module)
    pretrained = tmp_path / 'weights' / 'resnet50_torchvision.pth'
    fresh_resnet50(str(pretrained))
    assert f'{PLACEHOLDER}/data/pretrained/resnet50_torchvision.pth' in config
    config = config.replace(
        f'{PLACEHOLDER}/data/pretrained/resnet50_torchvision.pth',
        str(pretrained)).replace(PLACEHOLDER, REPO)
    (project / 'configs' / 'maskformer_my_dataset.py').write_text(config)
    make_data(str(parent / 'data' / 'my'))

    # the documented command, from the folder it names, plus a short schedule
    lines = [line for line in command.replace('\\\n', ' ').splitlines()
             if line.strip() and not line.startswith('cd ')]
    (train, ) = lines
    assert train.startswith('PYTHONPATH=. python ')
    work = parent / 'work_dirs' / 'my'
    proc = subprocess.run(
        ['bash', '-c', train.replace(' python ', f' {sys.executable} ', 1) +
         ' --cfg-options ' + ' '.join(SHORT)],
        cwd=str(parent), capture_output=True, text=True, timeout=900,
        env=dict(os.environ, PATH=osp.dirname(sys.executable) + os.pathsep +
                 os.environ['PATH'], OMP_NUM_THREADS='2'))
    out = proc.stdout + proc.stderr
    assert proc.returncode == 0, out[-4000:]
    assert 'mIoU' in out and 'sign' in out  # the project's dataset
    ckpt = torch.load(str(work / 'iter_2.pth'), weights_only=False)
    sd = ckpt['state_dict']
    # num_classes overridden: 3 classes + no-object
    assert sd['decode_head.cls_embed.weight'].shape[0] == 4
    # and the model is ours: our head's keys, not mmseg's MaskFormerHead's
    assert 'decode_head.transformer_decoder.query_embed.weight' in sd
    # the pretrained file was loaded: the frozen stem BN affine equals it
    stem = torch.load(str(pretrained))['bn1.weight']
    assert torch.equal(sd['backbone.bn1.weight'], stem)
    scalars = sorted(glob.glob(str(work / '*' / 'vis_data' / 'scalars.json')))
    assert scalars, 'no scalars logged'
    with open(scalars[-1]) as f:
        assert any('mIoU' in json.loads(line) for line in f)
