from .synthetic import generate_synthetic_dataset, make_sample
from .synthetic_dataset import SyntheticShapesDataset

__all__ = [
    'generate_synthetic_dataset', 'make_sample', 'SyntheticShapesDataset'
]
