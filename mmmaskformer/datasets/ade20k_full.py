"""ADE20K-Full (847 classes), as the official MaskFormer prepares it.

``tools/dataset_converters/ade20k_full.py`` writes, from the
``ADE20K_2021_17_01`` release, ``images_detectron2/{training,validation}/
NAME.jpg`` and 16-bit ``annotations_detectron2/{training,validation}/
NAME.tif`` label maps holding train ids 0..846 and 65535 (ignore) for
everything else. The category list is the official one
(``ADE20K_SEM_SEG_FULL_CATEGORIES`` of ``register_ade20k_full.py``), in
train-id order, with each class's raw ADE20K id.
"""
import json
import os.path as osp
from typing import Dict, List

import numpy as np
from mmseg.datasets import BaseSegDataset

from mmmaskformer.registry import DATASETS

IGNORE_INDEX = 65535
_CATEGORIES = osp.join(osp.dirname(__file__), 'ade20k_full_categories.json')


def ade20k_full_categories() -> List[Dict]:
    """``[{'train_id', 'name', 'ade_id'}, ...]``, 847 entries in order."""
    with open(_CATEGORIES) as f:
        cats = json.load(f)
    assert [c['train_id'] for c in cats] == list(range(len(cats)))
    return cats


def ade_id_to_train_id() -> Dict[int, int]:
    return {c['ade_id']: c['train_id'] for c in ade20k_full_categories()}


def _palette(n: int) -> List[List[int]]:
    rng = np.random.RandomState(847)
    return rng.randint(0, 256, size=(n, 3)).tolist()


@DATASETS.register_module()
class ADE20KFullDataset(BaseSegDataset):
    """ADE20K-Full in the layout the preparation tool writes: ``.jpg``
    images, 16-bit ``.tif`` labels, 847 classes, ignore index 65535, no
    reduce-zero (the tool has already mapped the ids)."""

    METAINFO = dict(
        classes=tuple(c['name'] for c in ade20k_full_categories()),
        palette=_palette(847))

    def __init__(self, img_suffix='.jpg', seg_map_suffix='.tif',
                 ignore_index: int = IGNORE_INDEX, **kwargs) -> None:
        super().__init__(img_suffix=img_suffix, seg_map_suffix=seg_map_suffix,
                         reduce_zero_label=False, ignore_index=ignore_index,
                         **kwargs)
