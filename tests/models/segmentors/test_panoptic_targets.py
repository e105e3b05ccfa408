"""mmdet panoptic samples -> MaskFormer targets, with crowd and VOID."""
import copy

import cv2
import numpy as np
import pytest
import torch
from mmdet.datasets.transforms import LoadPanopticAnnotations, PackDetInputs

import mmmaskformer  # noqa: F401
from mmmaskformer.datasets import DropCrowdInstances
from mmmaskformer.models.segmentors import panoptic_targets

NUM_THINGS, NUM_CLASSES = 2, 3  # things 0, 1; stuff 2


def write_png(path):
    """8x8 panoptic PNG (id = R + 256 G + 256^2 B):
    rows 0-1 id 1 (thing 0), rows 2-3 id 2 (thing 1, crowd),
    rows 4-5 cols 0-3 id 3 (thing 0), rows 4-5 cols 4-7 + rows 6-7 cols 0-3
    id 4 (stuff 2), rows 6-7 cols 4-7 void (0)."""
    ids = np.zeros((8, 8), np.int64)
    ids[0:2] = 1
    ids[2:4] = 2
    ids[4:6, :4] = 3
    ids[4:6, 4:] = 4
    ids[6:8, :4] = 4
    rgb = np.stack([ids % 256, ids // 256 % 256, ids // 65536], -1)
    cv2.imwrite(str(path), rgb.astype(np.uint8)[..., ::-1])
    return ids


def results_of(path, label=lambda c: c):
    # what mmdet's CocoPanopticDataset.parse_data_info gives (crowd things
    # have ignore_flag 1 and is_thing False); ``label`` renames the classes
    return dict(
        img=np.zeros((8, 8, 3), np.uint8), img_shape=(8, 8),
        ori_shape=(8, 8), img_path='sample.png', img_id=0,
        seg_map_path=str(path),
        segments_info=[
            dict(id=1, category=label(0), is_thing=True),
            dict(id=2, category=label(1), is_thing=False),
            dict(id=3, category=label(0), is_thing=True),
            dict(id=4, category=label(2), is_thing=False),
        ],
        instances=[
            dict(bbox=[0, 0, 8, 2], bbox_label=label(0), ignore_flag=0),
            dict(bbox=[0, 2, 8, 4], bbox_label=label(1), ignore_flag=1),
            dict(bbox=[0, 4, 4, 6], bbox_label=label(0), ignore_flag=0),
        ])


def load(path, drop_crowd=True, label=lambda c: c):
    r = LoadPanopticAnnotations()(results_of(path, label))
    if drop_crowd:
        r = DropCrowdInstances()(r)
    return PackDetInputs()(r)['data_samples']


def test_crowd_and_void_are_background(tmp_path):
    ids = write_png(tmp_path / 'pan.png')
    sample = load(tmp_path / 'pan.png')
    before = copy.deepcopy(sample)
    (t, ) = panoptic_targets([sample], NUM_THINGS, NUM_CLASSES)
    assert t.labels.tolist() == [0, 0, 2]
    ids = torch.from_numpy(ids)
    assert torch.equal(t.masks[0], ids == 1)
    assert torch.equal(t.masks[1], ids == 3)
    assert torch.equal(t.masks[2], ids == 4)
    # crowd (id 2) and VOID (id 0) pixels are negatives for every target
    assert not t.masks[:, (ids == 2) | (ids == 0)].any()
    # the input sample is untouched
    assert torch.equal(sample.gt_sem_seg.sem_seg, before.gt_sem_seg.sem_seg)
    assert torch.equal(sample.gt_instances.labels, before.gt_instances.labels)
    assert np.array_equal(sample.gt_instances.masks.masks,
                          before.gt_instances.masks.masks)


def test_mmdet_pipeline_without_drop_crowd_misaligns(tmp_path):
    """Why DropCrowdInstances exists: mmdet keeps the crowd box but not its
    mask, and PackDetInputs indexes the 2 masks with positions [0, 2]."""
    write_png(tmp_path / 'pan.png')
    with pytest.raises(IndexError):
        load(tmp_path / 'pan.png', drop_crowd=False)


def test_bad_stuff_label_names_the_image(tmp_path):
    write_png(tmp_path / 'pan.png')
    sample = load(tmp_path / 'pan.png')
    sample.gt_sem_seg.sem_seg[0, 0, 0] = 7
    with pytest.raises(ValueError, match=r'sample\.png.*\[7\]'):
        panoptic_targets([sample], NUM_THINGS, NUM_CLASSES)


def test_things_need_not_come_first(tmp_path):
    """The same scene with the classes renamed 0 -> 2, 1 -> 0, 2 -> 1 (the
    things 0 and 2 interleave with the stuff class 1, as in the official
    ADE20K and Cityscapes ids): the same masks, the renamed labels."""
    ids = torch.from_numpy(write_png(tmp_path / 'pan.png'))
    renamed = {0: 2, 1: 0, 2: 1}
    sample = load(tmp_path / 'pan.png', label=renamed.__getitem__)
    (t, ) = panoptic_targets([sample], (0, 2), NUM_CLASSES)
    assert t.labels.tolist() == [2, 2, 1]
    for mask, segment in zip(t.masks, (1, 3, 4)):
        assert torch.equal(mask, ids == segment)
    # read as things-first, thing label 2 is out of the thing range
    with pytest.raises(ValueError, match=r'sample\.png: thing labels'):
        panoptic_targets([sample], NUM_THINGS, NUM_CLASSES)
