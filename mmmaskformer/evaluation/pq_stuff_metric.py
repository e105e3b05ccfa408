"""PQ^St: panoptic quality of a semantic segmentation, every class as stuff
(paper Table 5; official tools/evaluate_pq_for_semantic_segmentation.py)."""
from collections import OrderedDict
from typing import Dict, List, Optional, Sequence

import numpy as np
from mmengine.evaluator import BaseMetric
from mmengine.logging import MMLogger, print_log
from prettytable import PrettyTable

from mmmaskformer.registry import METRICS


def pq_stuff_stats(pred: np.ndarray, gt: np.ndarray, num_classes: int,
                   ignore_index: int = 255) -> np.ndarray:
    """Per-class (tp, fp, fn, iou_sum) of one image, panopticapi's rules.

    Each class present forms one segment in the prediction and one in the
    ground truth; ``ignore_index`` pixels of the ground truth are VOID. A
    pair of the same class matches when IoU > 0.5, the union leaving out the
    prediction's VOID pixels. An unmatched predicted segment lying more than
    half on VOID is not a false positive.

    pred, gt: (H, W) integer maps -> (num_classes, 4) float64.
    """
    stats = np.zeros((num_classes, 4), np.float64)
    void = gt == ignore_index
    valid_gt = ~void
    for c in range(num_classes):
        p = pred == c
        g = (gt == c) & valid_gt
        p_area, g_area = int(p.sum()), int(g.sum())
        if p_area == 0 and g_area == 0:
            continue
        p_void = int((p & void).sum())
        matched = False
        if p_area and g_area:
            inter = int((p & g).sum())
            iou = inter / (p_area + g_area - inter - p_void)
            if iou > 0.5:
                stats[c, 0] += 1
                stats[c, 3] += iou
                matched = True
        if not matched:
            if g_area:
                stats[c, 2] += 1
            if p_area and p_void / p_area <= 0.5:
                stats[c, 1] += 1
    return stats


def pq_from_stats(stats: np.ndarray) -> Dict[str, object]:
    """Averages over the classes that occur (tp + fp + fn > 0)."""
    tp, fp, fn, iou = stats.T
    n = tp + fp + fn
    present = n > 0
    denom = np.where(present, tp + 0.5 * fp + 0.5 * fn, 1)
    pq = np.where(present, iou / denom, 0)
    sq = np.where(tp > 0, iou / np.maximum(tp, 1), 0)
    rq = np.where(present, tp / denom, 0)
    k = max(int(present.sum()), 1)
    return dict(PQ=100 * pq[present].sum() / k, SQ=100 * sq[present].sum() / k,
                RQ=100 * rq[present].sum() / k, per_class=(pq, sq, rq,
                                                           present))


@METRICS.register_module()
class PQStMetric(BaseMetric):
    """PQ^St, SQ^St and RQ^St of semantic predictions, next to mIoU:

        val_evaluator = [dict(type='IoUMetric', iou_metrics=['mIoU']),
                         dict(type='PQStMetric')]
    """

    default_prefix: Optional[str] = None

    def __init__(self, ignore_index: int = 255, collect_device: str = 'cpu',
                 prefix: Optional[str] = None, **kwargs) -> None:
        super().__init__(collect_device=collect_device, prefix=prefix)
        self.ignore_index = ignore_index

    def process(self, data_batch: dict, data_samples: Sequence[dict]) -> None:
        num_classes = len(self.dataset_meta['classes'])
        for sample in data_samples:
            pred = sample['pred_sem_seg']['data'].squeeze().cpu().numpy()
            gt = sample['gt_sem_seg']['data'].squeeze().cpu().numpy()
            self.results.append(
                pq_stuff_stats(pred, gt, num_classes, self.ignore_index))

    def compute_metrics(self, results: List[np.ndarray]) -> Dict[str, float]:
        res = pq_from_stats(np.sum(results, axis=0))
        pq, sq, rq, present = res.pop('per_class')
        table = PrettyTable(field_names=['Class', 'PQ^St', 'SQ^St', 'RQ^St'])
        for name, *v, ok in zip(self.dataset_meta['classes'], pq, sq, rq,
                                present):
            if ok:
                table.add_row([name] + [round(100 * x, 2) for x in v])
        print_log('per class PQ^St:\n' + table.get_string(),
                  logger=MMLogger.get_current_instance())
        return OrderedDict((f'{k}_St', round(float(v), 4))
                           for k, v in res.items())
