"""Panoptic inputs are padded as the official mappers pad them.

ADE20K panoptic (``MaskFormerPanopticDatasetMapper``): each training image
is padded to exactly the 640 crop, with 128 in the image before
normalisation, the ignore value in the semantic label and 0 (VOID) in the
instance masks. COCO panoptic (``DETRPanopticDatasetMapper``, SIZE_DIV 0):
no fixed size; the batch is padded to its largest image, with 0 after
normalisation, masks 0 and the semantic label 255.
"""
import copy
import os.path as osp

import pytest
import torch
from mmengine.config import Config
from mmengine.registry import init_default_scope

import mmmaskformer  # noqa: F401
from mmmaskformer.datasets import generate_synthetic_dataset
from mmmaskformer.engine import SampleGuard, SampleIndex
from mmmaskformer.registry import MODELS

REPO = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))


@pytest.fixture(scope='module')
def root(tmp_path_factory):
    return generate_synthetic_dataset(str(tmp_path_factory.mktemp('pan')),
                                      num_train=3, num_val=1, progress=False)


def dataset(config, root):
    init_default_scope('mmmaskformer')
    cfg = Config.fromfile(osp.join(REPO, 'configs', config))
    ds = copy.deepcopy(cfg.train_dataloader.dataset.to_dict())
    ds.update(type='SyntheticShapesPanopticDataset', data_root=root + '/',
              ann_file='annotations/panoptic_train.json',
              data_prefix=dict(img='img_dir/train/',
                               seg='annotations/panoptic_train/'),
              filter_cfg=dict(filter_empty_gt=False))
    guard = SampleGuard(ds, seed=0)
    guard.full_init()
    return cfg, guard


def test_ade20k_panoptic_pads_to_the_crop_with_official_values(root):
    _, guard = dataset('maskformer_r50_ade20k-panoptic.py', root)
    # a draw whose resized 64x64 image is smaller than the 640 crop
    # (mmdet's Pad sets img_shape to the padded size: the valid size is the
    # resized 64x64 image's, cropped to at most 640)
    for position in range(50):
        sample = guard[SampleIndex(0, position)]
        sw, sh = sample['data_samples'].scale_factor
        h, w = min(round(64 * sh), 640), min(round(64 * sw), 640)
        if h < 640:
            break
    else:
        raise AssertionError('no draw smaller than the crop')
    img = sample['inputs']  # (3, H, W) uint8, before normalisation
    ds = sample['data_samples']
    assert tuple(img.shape[-2:]) == (640, 640)
    assert tuple(ds.img_shape) == (640, 640)  # mmdet's Pad sets it
    assert (img[:, h:, :] == 128).all() and (img[:, :, w:] == 128).all()
    assert not (img[:, :h, :w] == 128).all()
    sem = ds.gt_sem_seg.sem_seg[0]
    assert sem.shape == (640, 640)
    assert (sem[h:, :] == 255).all() and (sem[:, w:] == 255).all()
    assert (sem[:h, :w] != 255).any()
    masks = ds.gt_instances.masks.to_tensor(torch.uint8, 'cpu')
    assert masks.shape[-2:] == (640, 640) and len(masks) > 0
    assert not masks[:, h:, :].any() and not masks[:, :, w:].any()


def test_coco_panoptic_pads_the_batch_to_its_largest_image(root):
    cfg, guard = dataset('maskformer_r50_coco-panoptic.py', root)
    assert not any('Pad' in t['type'] for t in cfg.train_pipeline)
    samples = [guard[SampleIndex(i % 3, i)] for i in range(8)]
    sizes = {tuple(s['data_samples'].img_shape) for s in samples}
    assert len(sizes) > 1  # random short edges: different sizes
    batch = samples[:2]
    while tuple(batch[0]['data_samples'].img_shape) == \
            tuple(batch[1]['data_samples'].img_shape):
        batch = [batch[0], samples[len(batch) + 1]]
    init_default_scope('mmmaskformer')
    pre = MODELS.build(cfg.model.data_preprocessor)
    data = pre(dict(inputs=[b['inputs'] for b in batch],
                    data_samples=[b['data_samples'] for b in batch]), True)
    H = max(b['data_samples'].img_shape[0] for b in batch)
    W = max(b['data_samples'].img_shape[1] for b in batch)
    assert tuple(data['inputs'].shape[-2:]) == (H, W)  # no size divisor
    for img, ds in zip(data['inputs'], data['data_samples']):
        h, w = ds.img_shape
        assert (img[:, h:, :] == 0).all() and (img[:, :, w:] == 0).all()
        sem = ds.gt_sem_seg.sem_seg[0]
        assert sem.shape == (H, W)
        assert (sem[h:, :] == 255).all() and (sem[:, w:] == 255).all()
        masks = ds.gt_instances.masks.to_tensor(torch.uint8, 'cpu')
        assert masks.shape[-2:] == (H, W)
        assert not masks[:, h:, :].any() and not masks[:, :, w:].any()
