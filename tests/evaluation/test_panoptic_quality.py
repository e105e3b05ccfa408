"""The PQ our pipeline reports equals panopticapi's ``pq_compute`` on the
PNG/JSON files it saved."""
import json
import os.path as osp

import cv2
import numpy as np
import pytest
import torch
from mmdet.evaluation import CocoPanopticMetric
from panopticapi.evaluation import pq_compute

import mmmaskformer  # noqa: F401
from mmmaskformer.datasets import generate_synthetic_dataset
from mmmaskformer.datasets.synthetic_shapes import CLASSES, STUFF_CLASSES, THING_CLASSES

VOID = len(CLASSES)


def gt_ids(root, name):
    rgb = cv2.imread(osp.join(root, 'annotations', 'panoptic_val', name))
    rgb = rgb[..., ::-1].astype(np.int64)
    return rgb[..., 0] + 256 * rgb[..., 1] + 65536 * rgb[..., 2]


def prediction(root, ann, perturb):
    """mmdet-format prediction (label + instance * 1000, VOID = 6) made
    from the ground truth, then perturbed."""
    ids = gt_ids(root, ann['file_name'])
    pred = np.full(ids.shape, VOID, np.int64)
    instance = 0
    for seg in ann['segments_info']:
        label = seg['category_id'] - 1
        value = label
        if label < len(THING_CLASSES):
            instance += 1
            value += 1000 * instance
        pred[ids == seg['id']] = value
    if perturb == 'drop_first':
        pred[pred == pred.flat[np.argmax(pred >= 1000)]] = VOID
    elif perturb == 'shift':
        pred = np.roll(pred, 3, axis=1)
    elif perturb == 'relabel_stuff':
        stuff = (pred >= len(THING_CLASSES)) & (pred < VOID)
        pred[stuff] = len(THING_CLASSES) + (pred[stuff] - 2) % 3
    return pred


@pytest.mark.parametrize('seed', [0, 1])
def test_pq_equals_panopticapi(tmp_path, seed):
    root = generate_synthetic_dataset(str(tmp_path / 'data'), num_train=0,
                                      num_val=6, seed=seed, progress=False)
    ann_file = osp.join(root, 'annotations', 'panoptic_val.json')
    seg_prefix = osp.join(root, 'annotations', 'panoptic_val')
    with open(ann_file) as f:
        gt = json.load(f)
    prefix = str(tmp_path / 'pred' / 'results')
    metric = CocoPanopticMetric(ann_file=ann_file, seg_prefix=seg_prefix,
                                outfile_prefix=prefix, nproc=1)
    metric.dataset_meta = dict(classes=CLASSES, thing_classes=THING_CLASSES,
                               stuff_classes=STUFF_CLASSES)
    perturbs = ['none', 'drop_first', 'shift', 'relabel_stuff', 'none',
                'shift']
    samples = []
    for img, ann, p in zip(gt['images'], gt['annotations'], perturbs):
        pan = prediction(root, ann, p)
        samples.append(
            dict(img_id=img['id'], img_path=osp.join(root, 'img_dir', 'val',
                                                     img['file_name']),
                 ori_shape=(img['height'], img['width']),
                 pred_panoptic_seg=dict(sem_seg=torch.from_numpy(pan)[None])))
    metric.process({}, samples)
    ours = metric.compute_metrics(metric.results)
    ref = pq_compute(ann_file, f'{prefix}.panoptic.json', seg_prefix,
                     f'{prefix}.panoptic')
    assert 20 < ours['PQ'] < 100  # the perturbations cost something
    for key, group in (('', 'All'), ('_th', 'Things'), ('_st', 'Stuff')):
        for m in ('PQ', 'SQ', 'RQ'):
            assert abs(ours[m + key] - 100 * ref[group][m.lower()]) < 1e-6, \
                (m + key, ours[m + key], ref[group])
