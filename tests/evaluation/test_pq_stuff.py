"""PQ^St on hand-built maps: hand-computed values and panopticapi."""
import cv2
import numpy as np
import pytest
import torch
from panopticapi.evaluation import pq_compute_multi_core

import mmmaskformer  # noqa: F401
from mmmaskformer.evaluation import PQStMetric

GT = [np.array([[0, 0, 1, 1], [0, 255, 1, 2]]),
      np.array([[3, 3], [255, 255]])]
PRED = [np.array([[0, 0, 0, 1], [0, 2, 1, 2]]), np.array([[1, 1], [3, 1]])]
CLASSES = ('a', 'b', 'c', 'd')


def run_metric(gts, preds):
    metric = PQStMetric()
    metric.dataset_meta = dict(classes=CLASSES)
    metric.process({}, [
        dict(pred_sem_seg=dict(data=torch.from_numpy(p)[None]),
             gt_sem_seg=dict(data=torch.from_numpy(g)[None]))
        for p, g in zip(preds, gts)
    ])
    return metric.compute_metrics(metric.results)


def test_pq_stuff_hand_computed():
    # class a: IoU 3 / (4 + 3 - 3) = .75, TP
    # class b: image 0 IoU 2 / 3, TP; image 1: 3 predicted pixels, 1 on
    #   VOID (1/3 <= .5), no gt -> FP
    # class c: IoU 1 / (2 + 1 - 1 - 1 void) = 1, TP
    # class d: gt 2 px, the 1 predicted pixel is on VOID: FN, not FP
    # PQ = (.75 + (2/3) / 1.5 + 1 + 0) / 4, SQ = (.75 + 2/3 + 1 + 0) / 4,
    # RQ = (1 + 1 / 1.5 + 1 + 0) / 4
    res = run_metric(GT, PRED)
    assert res['PQ_St'] == pytest.approx(100 * (0.75 + 4 / 9 + 1) / 4,
                                         abs=1e-4)
    assert res['SQ_St'] == pytest.approx(100 * (0.75 + 2 / 3 + 1) / 4,
                                         abs=1e-4)
    assert res['RQ_St'] == pytest.approx(100 * (1 + 2 / 3 + 1) / 4, abs=1e-4)
    assert abs(res['PQ_St'] - 54.8611) < 1e-3


def test_pq_stuff_equals_panopticapi(tmp_path):
    rng = np.random.default_rng(0)
    gts, preds = [], []
    for _ in range(5):  # blocky random maps with some VOID
        g = np.kron(rng.integers(0, 4, (4, 4)), np.ones((4, 4), int))
        g[rng.random(g.shape) < 0.1] = 255
        p = np.kron(rng.integers(0, 4, (4, 4)), np.ones((4, 4), int))
        # mostly right (VOID predicted as class 0), partly random blocks
        p = np.where(rng.random(g.shape) < 0.7, np.where(g == 255, 0, g), p)
        gts.append(g)
        preds.append(p)
    ours = run_metric(gts, preds)

    def write(maps, folder, void_is_255):
        (tmp_path / folder).mkdir()
        anns = []
        for i, m in enumerate(maps):
            ids = np.where(m == 255, 0, m + 1) if void_is_255 else m + 1
            rgb = np.stack([ids, 0 * ids, 0 * ids], -1).astype(np.uint8)
            cv2.imwrite(str(tmp_path / folder / f'{i}.png'), rgb[..., ::-1])
            segs = [dict(id=int(c), category_id=int(c), iscrowd=0,
                         area=int((ids == c).sum()))
                    for c in np.unique(ids) if c != 0]
            anns.append(dict(image_id=i, file_name=f'{i}.png',
                             segments_info=segs))
        data = dict(annotations=anns,
                    images=[dict(id=i, file_name=f'{i}.png', height=16,
                                 width=16) for i in range(len(maps))],
                    categories=[dict(id=c + 1, name=n, isthing=0)
                                for c, n in enumerate(CLASSES)])
        return data

    gt, pred = write(gts, 'gt', True), write(preds, 'pred', False)
    # panopticapi's own matching, averaged over all (stuff) categories
    # (its pq_compute also averages the empty "Things" group and divides by 0)
    categories = {c['id']: c for c in gt['categories']}
    stat = pq_compute_multi_core(
        list(zip(gt['annotations'], pred['annotations'])),
        str(tmp_path / 'gt'), str(tmp_path / 'pred'), categories)
    ref, _ = stat.pq_average(categories, isthing=None)
    assert 0 < ref['pq'] < 1
    for m in ('PQ', 'SQ', 'RQ'):
        assert ours[f'{m}_St'] == pytest.approx(100 * ref[m.lower()],
                                                abs=1e-3)
