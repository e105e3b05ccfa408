from .iou_metric import WideLabelIoUMetric, save_label_map
from .pq_stuff_metric import PQStMetric, pq_from_stats, pq_stuff_stats

__all__ = [
    'WideLabelIoUMetric', 'PQStMetric', 'pq_from_stats', 'pq_stuff_stats',
    'save_label_map'
]
