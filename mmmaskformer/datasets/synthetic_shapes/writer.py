"""Write the generated shapes dataset to disk, in mmseg's directory format
and, for panoptic segmentation, in COCO panoptic format::

    root/
      img_dir/{train,val}/00000.png          RGB images
      ann_dir/{train,val}/00000.png          semantic labels 0..5 (uint8)
      annotations/panoptic_{train,val}.json  COCO panoptic annotations
      annotations/panoptic_{train,val}/00000.png   id = R + 256 G + 256^2 B
      annotations/instances_{train,val}.json COCO instances (things)
      meta.json                              generation parameters

``meta.json`` is written last: a folder with a ``meta.json`` of the same
parameters is complete and is not written again.
"""
import json
import os
import os.path as osp
from typing import Dict, List, Tuple

import cv2
import numpy as np
from mmengine.logging import print_log
from mmengine.utils import track_iter_progress
from panopticapi.utils import id2rgb

from mmmaskformer.utils.io import atomic_write_text

from .sampling import CLASSES, THING_CLASSES, make_sample

FORMAT_VERSION = 1
VAL_INDEX_OFFSET = 1_000_000  # val samples are indices 10^6, 10^6 + 1, ...


def categories() -> List[Dict]:
    """The COCO categories: ids 1..6 in class order (things first)."""
    return [
        dict(id=i + 1, name=name, supercategory=name,
             isthing=int(name in THING_CLASSES)) for i, name in enumerate(CLASSES)
    ]


def panoptic_annotation(segments, shape: Tuple[int, int], image_id: int,
                        file_name: str) -> Tuple[np.ndarray, Dict]:
    """The id map ``shape`` (H, W) and the COCO panoptic annotation of one
    sample: segment ids 1, 2, ... in the order of ``segments``."""
    pan = np.zeros(shape, np.int64)
    infos = []
    for seg_id, (cls, mask) in enumerate(segments, start=1):
        pan[mask] = seg_id
        ys, xs = np.nonzero(mask)
        infos.append(
            dict(id=seg_id, category_id=cls + 1, iscrowd=0,
                 area=int(mask.sum()),
                 bbox=[int(xs.min()), int(ys.min()),
                       int(xs.max() - xs.min() + 1),
                       int(ys.max() - ys.min() + 1)]))
    return pan, dict(image_id=image_id, file_name=file_name,
                     segments_info=infos)


def write_split(root: str, split: str, count: int, offset: int, size: int,
                seed: int, progress: bool) -> None:
    """Images, semantic labels, panoptic PNGs and JSON of one split."""
    for d in (f'img_dir/{split}', f'ann_dir/{split}',
              f'annotations/panoptic_{split}'):
        os.makedirs(osp.join(root, d), exist_ok=True)
    images, annotations = [], []
    indices = range(count)
    if progress and count:
        indices = track_iter_progress(list(indices))
    for i in indices:
        name = f'{i:05d}.png'
        img, sem, segments = make_sample(offset + i, size, seed)
        cv2.imwrite(osp.join(root, f'img_dir/{split}/{name}'),
                    img[..., ::-1])
        cv2.imwrite(osp.join(root, f'ann_dir/{split}/{name}'), sem)
        pan, annotation = panoptic_annotation(segments, sem.shape, i, name)
        cv2.imwrite(osp.join(root, f'annotations/panoptic_{split}/{name}'),
                    id2rgb(pan)[..., ::-1])
        images.append(dict(id=i, file_name=name, height=size, width=size))
        annotations.append(annotation)
    atomic_write_text(
        osp.join(root, f'annotations/panoptic_{split}.json'),
        json.dumps(dict(images=images, annotations=annotations,
                        categories=categories())))


def generate_synthetic_dataset(root: str, num_train: int = 300,
                               num_val: int = 60, size: int = 64,
                               seed: int = 0, progress: bool = True) -> str:
    """Write the dataset under ``root`` (skipped when already there with the
    same parameters). Returns ``root``."""
    params = dict(format_version=FORMAT_VERSION, num_train=num_train,
                  num_val=num_val, size=size, seed=seed)
    meta_file = osp.join(root, 'meta.json')
    if osp.isfile(meta_file):
        with open(meta_file) as f:
            if json.load(f) == params:
                write_instances(root)
                return root
    print_log(f'writing the synthetic shapes dataset to {root}: '
              f'{num_train} train and {num_val} val images of {size}x{size} '
              f'(seed {seed})', logger='current')
    for split, count, offset in (('train', num_train, 0),
                                 ('val', num_val, VAL_INDEX_OFFSET)):
        write_split(root, split, count, offset, size, seed, progress)
    write_instances(root, overwrite=True)  # of these panoptic annotations
    atomic_write_text(meta_file, json.dumps(params))
    return root


def write_instances(root: str, overwrite: bool = False) -> None:
    """The instance ground truth of each split (things only), from its
    panoptic annotations: ``instances_val.json`` is what
    ``CocoMetric(metric='segm')`` scores ``pred_instances`` against,
    ``instances_train.json`` what an instance model trains on (mmdet's
    ``CocoDataset``, the Mask2Former instance demo). Written when missing,
    or always with ``overwrite`` (the panoptic annotations were rewritten,
    e.g. with other sizes)."""
    for split in ('val', 'train'):
        out = osp.join(root, 'annotations', f'instances_{split}.json')
        if overwrite or not osp.isfile(out):
            from ..panoptic_to_instances import panoptic_to_instances
            panoptic_to_instances(
                osp.join(root, 'annotations', f'panoptic_{split}.json'),
                osp.join(root, 'annotations', f'panoptic_{split}'), out)
