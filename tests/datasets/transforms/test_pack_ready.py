"""A 1-pixel-wide (or -high) image flips and packs: the stock Pack
transforms take a flipped axis of length 1 for contiguous, and torch refuses
its negative stride; ``AddLabelLists`` (the last step before Pack) copies
exactly that array."""
import cv2
import numpy as np
import pytest
from mmengine.dataset import Compose
from mmengine.registry import init_default_scope

import mmmaskformer  # noqa: F401
from mmmaskformer.datasets.transforms.add_label_lists import fools_pack


def semantic_pipeline(direction):
    init_default_scope('mmmaskformer')
    return Compose([
        dict(type='mmmaskformer.LoadCheckedImage'),
        dict(type='mmmaskformer.LoadCheckedAnnotations'),
        dict(type='RandomFlip', prob=1.0, direction=direction),
        dict(type='mmmaskformer.AddLabelLists'),
        dict(type='PackSegInputs', meta_keys=('img_path', 'flip',
                                              'seg_labels'))])


@pytest.mark.parametrize('shape,direction', [
    ((20, 1), 'horizontal'), ((1, 20), 'vertical'), ((1, 1), 'diagonal'),
    ((20, 1), 'vertical'), ((5, 7), 'horizontal')])
def test_thin_image_flips_and_packs(tmp_path, shape, direction):
    rng = np.random.default_rng(0)
    img = rng.integers(0, 256, shape + (3, ), np.uint8)
    sem = rng.integers(0, 6, shape).astype(np.uint8)
    cv2.imwrite(str(tmp_path / 'img.png'), img)
    cv2.imwrite(str(tmp_path / 'ann.png'), sem)
    out = semantic_pipeline(direction)(dict(
        img_path=str(tmp_path / 'img.png'),
        seg_map_path=str(tmp_path / 'ann.png'), seg_fields=[],
        reduce_zero_label=False))
    axes = dict(horizontal=(1, ), vertical=(0, ), diagonal=(0, 1))[direction]
    flipped = np.flip(img, axes)
    assert np.array_equal(out['inputs'].permute(1, 2, 0).numpy(), flipped)
    assert np.array_equal(out['data_samples'].gt_sem_seg.data[0].numpy(),
                          np.flip(sem, axes))
    assert out['data_samples'].seg_labels == np.unique(sem).tolist()


def test_panoptic_thin_image_flips_and_packs():
    init_default_scope('mmmaskformer')
    img = np.arange(12 * 3, dtype=np.uint8).reshape(12, 1, 3)
    seg = np.full((12, 1), 4, np.int32)
    out = Compose([
        dict(type='mmdet.RandomFlip', prob=1.0),
        dict(type='mmmaskformer.AddLabelLists'),
        dict(type='mmdet.PackDetInputs', meta_keys=('flip', 'seg_labels'))
    ])(dict(img=img, gt_seg_map=seg, img_shape=(12, 1), ori_shape=(12, 1),
            gt_bboxes=np.zeros((0, 4), np.float32),
            gt_bboxes_labels=np.zeros(0, np.int64),
            gt_ignore_flags=np.zeros(0, bool)))
    assert np.array_equal(out['inputs'].permute(1, 2, 0).numpy(), img)
    assert out['data_samples'].seg_labels == [4]


def test_only_arrays_that_fool_pack_are_copied():
    normal = np.zeros((4, 5, 3))
    assert not fools_pack(normal)
    assert not fools_pack(normal[:, ::-1])  # Pack copies this one itself
    assert fools_pack(np.zeros((4, 1, 3))[:, ::-1])
    assert fools_pack(np.zeros((1, 4, 3))[::-1])
