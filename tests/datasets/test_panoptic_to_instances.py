"""Panoptic -> instance ground truth (things only), and mmdet's CocoMetric
on it: perfect instance predictions score AP 1, the conversion keeps every
thing segment with its mask, box and area."""
import json
import os.path as osp

import numpy as np
import pytest
import torch

import mmmaskformer  # noqa: F401
from mmmaskformer.datasets import generate_synthetic_dataset
from mmmaskformer.datasets.panoptic_to_instances import panoptic_to_instances


def _write_panoptic(tmp_path, ids, segments):
    import cv2
    png_dir = tmp_path / 'pan'
    png_dir.mkdir()
    rgb = np.stack([ids % 256, ids // 256 % 256, ids // 65536], -1)
    cv2.imwrite(str(png_dir / 'a.png'), rgb[..., ::-1].astype(np.uint8))
    ann = dict(images=[dict(id=7, file_name='a.png', height=4, width=5)],
               annotations=[dict(image_id=7, file_name='a.png',
                                 segments_info=segments)],
               categories=[dict(id=1, name='thing', isthing=1),
                           dict(id=2, name='stuff', isthing=0)])
    path = tmp_path / 'pan.json'
    path.write_text(json.dumps(ann))
    return str(path), str(png_dir)


def test_thing_segments_become_instances(tmp_path):
    from pycocotools import mask as mask_utils
    ids = np.zeros((4, 5), np.int64)
    ids[1:3, 1:4] = 300  # a thing: rows 1-2, cols 1-3 (id > 255: 2 bytes)
    ids[3, :] = 5  # stuff
    path, png_dir = _write_panoptic(tmp_path, ids, [
        dict(id=300, category_id=1, iscrowd=1),
        dict(id=5, category_id=2, iscrowd=0)])
    out = panoptic_to_instances(path, png_dir, str(tmp_path / 'inst.json'))
    assert json.loads((tmp_path / 'inst.json').read_text()) == out
    assert [c['id'] for c in out['categories']] == [1]  # things only
    (inst, ) = out['annotations']
    assert inst['image_id'] == 7 and inst['category_id'] == 1
    assert inst['iscrowd'] == 1 and inst['area'] == 6.0
    assert inst['bbox'] == [1.0, 1.0, 3.0, 2.0]  # x, y, w, h
    decoded = mask_utils.decode(dict(inst['segmentation'],
                                     counts=inst['segmentation']['counts']
                                     .encode()))
    assert np.array_equal(decoded.astype(bool), ids == 300)
    # a listed segment without pixels, and a missing PNG, are named
    (tmp_path / 'x').mkdir()
    path, png_dir = _write_panoptic(tmp_path / 'x', ids,
                                    [dict(id=301, category_id=1)])
    with pytest.raises(ValueError, match='a.png: segment 301'):
        panoptic_to_instances(path, png_dir)
    (tmp_path / 'x' / 'pan' / 'a.png').unlink()
    with pytest.raises(FileNotFoundError, match='a.png'):
        panoptic_to_instances(path, png_dir)


def test_coco_metric_scores_perfect_instances_ap_1(tmp_path):
    from mmdet.evaluation import CocoMetric
    from mmdet.structures.mask import mask2bbox
    from pycocotools import mask as mask_utils

    from mmmaskformer.datasets.synthetic_shapes import CLASSES, THING_CLASSES
    root = generate_synthetic_dataset(str(tmp_path / 'syn'), num_train=1,
                                      num_val=4, progress=False)
    gt = json.loads(open(osp.join(root, 'annotations',
                                  'instances_val.json')).read())
    assert [c['name'] for c in gt['categories']] == list(THING_CLASSES)
    assert gt['annotations']  # every val image has 1-4 things

    def score(predict):
        metric = CocoMetric(ann_file=osp.join(root, 'annotations',
                                              'instances_val.json'),
                            metric='segm')
        metric.dataset_meta = dict(classes=CLASSES)
        samples = []
        for img in gt['images']:
            anns = [a for a in gt['annotations'] if a['image_id'] == img['id']]
            masks, labels = predict(img, anns)
            samples.append(dict(
                img_id=img['id'], ori_shape=(img['height'], img['width']),
                pred_instances=dict(masks=masks, labels=labels,
                                    scores=torch.ones(len(labels)),
                                    bboxes=mask2bbox(masks))))
        metric.process({}, samples)
        return metric.compute_metrics(metric.results)['segm_mAP']

    def perfect(img, anns):
        masks = torch.stack([torch.from_numpy(mask_utils.decode(dict(
            a['segmentation'], counts=a['segmentation']['counts'].encode()))
        ).bool() for a in anns])
        # labels are class indices: category id - 1 (things first)
        return masks, torch.tensor([a['category_id'] - 1 for a in anns])

    def shifted_labels(img, anns):
        masks, labels = perfect(img, anns)
        return masks, (labels + 1) % len(THING_CLASSES)

    assert score(perfect) == pytest.approx(1.0)
    assert score(shifted_labels) < 0.2
