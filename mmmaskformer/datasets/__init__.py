from .camvid import CamVidDataset
from .coco_panoptic import CocoPanopticDataset
from .synthetic import generate_synthetic_dataset, make_sample
from .synthetic_dataset import SyntheticShapesDataset
from .synthetic_panoptic_dataset import SyntheticShapesPanopticDataset
from .transforms import (DropCrowdInstances, LoadAnnotations,
                         LoadImageFromFile, LoadPanopticAnnotations)

__all__ = [
    'CamVidDataset', 'CocoPanopticDataset', 'LoadImageFromFile',
    'LoadPanopticAnnotations',
    'generate_synthetic_dataset', 'make_sample', 'SyntheticShapesDataset',
    'SyntheticShapesPanopticDataset', 'DropCrowdInstances', 'LoadAnnotations'
]
