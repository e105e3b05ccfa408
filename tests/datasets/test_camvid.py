"""CamVid read in place: 11 classes, unlabelled (11) mapped to ignore."""
import os.path as osp

import cv2
import numpy as np
from mmengine.registry import init_default_scope

import mmmaskformer  # noqa: F401
from mmmaskformer.datasets import CamVidDataset


def test_camvid_unlabelled_is_ignored(shared):
    root = osp.join(shared, 'data', 'camvid')
    init_default_scope('mmmaskformer')
    ds = CamVidDataset(
        data_root=root,
        data_prefix=dict(img_path='images/val', seg_map_path='labels/val'),
        pipeline=[dict(type='mmmaskformer.LoadCheckedImage'),
                  dict(type='mmmaskformer.LoadCheckedAnnotations'),
                  dict(type='PackSegInputs')])
    assert len(ds) == 101
    assert len(ds.metainfo['classes']) == 11
    for i in range(len(ds)):  # find a frame with unlabelled pixels
        raw = cv2.imread(ds.get_data_info(i)['seg_map_path'],
                         cv2.IMREAD_UNCHANGED)
        if (raw == 11).any():
            break
    gt = ds[i]['data_samples'].gt_sem_seg.data[0].numpy()
    assert (gt[raw == 11] == 255).all()
    assert np.array_equal(gt[raw != 11], raw[raw != 11])
    assert gt[gt != 255].max() <= 10
