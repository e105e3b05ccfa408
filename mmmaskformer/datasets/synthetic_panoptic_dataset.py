"""mmdet panoptic dataset class of the generated demo data."""
from .coco_panoptic import CheckedCocoPanopticDataset

from mmmaskformer.registry import DATASETS
from .synthetic import PALETTE, STUFF_CLASSES, THING_CLASSES


@DATASETS.register_module()
class SyntheticShapesPanopticDataset(CheckedCocoPanopticDataset):
    """The generated shapes dataset in COCO panoptic format: 3 thing classes
    (labels 0-2) then 3 stuff classes (labels 3-5)."""

    METAINFO = dict(
        classes=THING_CLASSES + STUFF_CLASSES,
        thing_classes=THING_CLASSES,
        stuff_classes=STUFF_CLASSES,
        palette=[tuple(c) for c in PALETTE])
