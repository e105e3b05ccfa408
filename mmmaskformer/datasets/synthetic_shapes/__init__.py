"""The generated shapes dataset of the demo and the tests.

:mod:`.sampling` draws one sample (deterministic in index, size and seed),
:mod:`.writer` writes a dataset folder, :mod:`.datasets` reads it (semantic
and panoptic dataset classes).
"""
from .datasets import SyntheticShapesDataset, SyntheticShapesPanopticDataset
from .sampling import CLASSES, PALETTE, STUFF_CLASSES, THING_CLASSES, make_sample
from .writer import categories, generate_synthetic_dataset

__all__ = [
    'CLASSES', 'PALETTE', 'STUFF_CLASSES', 'THING_CLASSES', 'make_sample',
    'categories', 'generate_synthetic_dataset', 'SyntheticShapesDataset',
    'SyntheticShapesPanopticDataset'
]
