from .ade20k_full import ADE20KFullDataset, ade20k_full_categories, ade_id_to_train_id
from .camvid import CamVidDataset
from .coco_panoptic import CheckedCocoPanopticDataset
from .synthetic_shapes import (
                          SyntheticShapesDataset,
                          SyntheticShapesPanopticDataset,
                          generate_synthetic_dataset,
                          make_sample,
)
from .transforms import (
                          AddLabelLists,
                          DropCrowdInstances,
                          LoadCheckedAnnotations,
                          LoadCheckedImage,
                          LoadCheckedPanopticAnnotations,
)

__all__ = [
    'ADE20KFullDataset', 'ade20k_full_categories', 'ade_id_to_train_id',
    'CamVidDataset', 'CheckedCocoPanopticDataset', 'LoadCheckedImage',
    'LoadCheckedPanopticAnnotations', 'AddLabelLists',
    'generate_synthetic_dataset', 'make_sample', 'SyntheticShapesDataset',
    'SyntheticShapesPanopticDataset', 'DropCrowdInstances', 'LoadCheckedAnnotations'
]
