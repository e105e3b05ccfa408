from .camvid import CamVidDataset
from .synthetic import generate_synthetic_dataset, make_sample
from .synthetic_dataset import SyntheticShapesDataset
from .synthetic_panoptic_dataset import SyntheticShapesPanopticDataset
from .transforms import DropCrowdInstances, LoadAnnotations

__all__ = [
    'CamVidDataset',
    'generate_synthetic_dataset', 'make_sample', 'SyntheticShapesDataset',
    'SyntheticShapesPanopticDataset', 'DropCrowdInstances', 'LoadAnnotations'
]
