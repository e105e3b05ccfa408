from .pq_stuff_metric import PQStMetric, pq_from_stats, pq_stuff_stats

__all__ = ['PQStMetric', 'pq_from_stats', 'pq_stuff_stats']
