"""The dataset classes of the generated data: mmseg's layout for semantic
segmentation, COCO panoptic for panoptic (see :mod:`.writer`)."""
from mmseg.datasets import BaseSegDataset

from mmmaskformer.registry import DATASETS

from ..coco_panoptic import CheckedCocoPanopticDataset
from .sampling import CLASSES, PALETTE, STUFF_CLASSES, THING_CLASSES


@DATASETS.register_module()
class SyntheticShapesDataset(BaseSegDataset):
    """The generated shapes in mmseg's ``img_dir``/``ann_dir`` layout,
    6 classes, no reduce-zero."""

    METAINFO = dict(classes=CLASSES, palette=PALETTE)

    def __init__(self, img_suffix='.png', seg_map_suffix='.png',
                 reduce_zero_label=False, **kwargs) -> None:
        super().__init__(img_suffix=img_suffix, seg_map_suffix=seg_map_suffix,
                         reduce_zero_label=reduce_zero_label, **kwargs)


@DATASETS.register_module()
class SyntheticShapesPanopticDataset(CheckedCocoPanopticDataset):
    """The generated shapes in COCO panoptic format: 3 thing classes
    (labels 0-2) then 3 stuff classes (labels 3-5)."""

    METAINFO = dict(
        classes=THING_CLASSES + STUFF_CLASSES,
        thing_classes=THING_CLASSES,
        stuff_classes=STUFF_CLASSES,
        palette=[tuple(c) for c in PALETTE])
