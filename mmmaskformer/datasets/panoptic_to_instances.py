"""COCO panoptic annotations -> COCO instance annotations (things only).

The ground truth that mmdet's ``CocoMetric(metric='segm')`` scores the
panoptic model's ``pred_instances`` against: every segment of a thing
category becomes one instance (RLE mask, its box and
area, ``iscrowd`` kept), stuff segments are left out, images and thing
categories are copied. The same conversion as panopticapi's
``converters/panoptic2detection_coco_format.py`` (not shipped by
panopticapi-lite).
"""
import json
import os.path as osp
from typing import Optional

from mmengine.utils import ProgressBar
from panopticapi.utils import rgb2id

from mmmaskformer.utils.rle import coco_rle


def panoptic_to_instances(panoptic_json: str, panoptic_dir: str,
                          out_json: Optional[str] = None,
                          progress: bool = False) -> dict:
    """Convert; write ``out_json`` when given (atomically). Returns the
    instances dict."""
    import mmcv
    from pycocotools import mask as mask_utils

    from mmmaskformer.utils.io import atomic_write_text
    with open(panoptic_json) as f:
        panoptic = json.load(f)
    things = [c for c in panoptic['categories'] if c.get('isthing', 1)]
    thing_ids = {c['id'] for c in things}
    annotations = []
    bar = ProgressBar(len(panoptic['annotations'])) if progress else None
    for ann in panoptic['annotations']:
        infos = [s for s in ann['segments_info']
                 if s['category_id'] in thing_ids]
        if infos:
            path = osp.join(panoptic_dir, ann['file_name'])
            png = mmcv.imread(path, flag='color', channel_order='rgb')
            if png is None:
                raise FileNotFoundError(f'{path}: the panoptic PNG of image '
                                        f"{ann['image_id']} is missing")
            ids = rgb2id(png)
        for info in infos:
            mask = ids == info['id']
            if not mask.any():
                raise ValueError(
                    f"{ann['file_name']}: segment {info['id']} of "
                    f"{panoptic_json} has no pixel in its PNG")
            rle = coco_rle(mask)
            encoded = dict(rle, counts=rle['counts'].encode('ascii'))
            annotations.append(dict(
                id=len(annotations) + 1, image_id=ann['image_id'],
                category_id=info['category_id'], segmentation=rle,
                area=float(mask_utils.area(encoded)),
                bbox=[float(v) for v in mask_utils.toBbox(encoded)],
                iscrowd=int(info.get('iscrowd', 0))))
        if bar:
            bar.update()
    out = dict(images=panoptic['images'], annotations=annotations,
               categories=things)
    if out_json is not None:
        atomic_write_text(out_json, json.dumps(out))
    return out

