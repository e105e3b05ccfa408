"""mmseg dataset class of the generated demo data."""
from mmseg.datasets import BaseSegDataset

from mmmaskformer.registry import DATASETS
from .synthetic import CLASSES, PALETTE


@DATASETS.register_module()
class SyntheticShapesDataset(BaseSegDataset):
    """The generated shapes dataset (see :mod:`mmmaskformer.datasets.synthetic`)
    in mmseg's ``img_dir``/``ann_dir`` layout, 6 classes, no reduce-zero."""

    METAINFO = dict(classes=CLASSES, palette=PALETTE)

    def __init__(self, img_suffix='.png', seg_map_suffix='.png',
                 reduce_zero_label=False, **kwargs) -> None:
        super().__init__(img_suffix=img_suffix, seg_map_suffix=seg_map_suffix,
                         reduce_zero_label=reduce_zero_label, **kwargs)
