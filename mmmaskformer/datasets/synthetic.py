"""A small, deterministic segmentation dataset generated on the fly.

Textured "stuff" backgrounds (sky, grass, brick) split by wavy boundaries and
"thing" objects (discs, boxes, triangles) with several instances per image.
Written in mmseg's directory format and, for panoptic segmentation, in COCO
panoptic format::

    root/
      img_dir/{train,val}/00000.png          RGB images
      ann_dir/{train,val}/00000.png          semantic labels 0..5 (uint8)
      annotations/panoptic_{train,val}.json  COCO panoptic annotations
      annotations/panoptic_{train,val}/00000.png   id = R + 256 G + 256^2 B
      meta.json                              generation parameters

Class indices put things first (0..2) and stuff after (3..5), the
order mmdet's panoptic datasets use, so semantic and panoptic labels agree.
"""
import json
import os
import os.path as osp
from typing import Dict, List

import cv2
import numpy as np

THING_CLASSES = ('disc', 'box', 'triangle')
STUFF_CLASSES = ('sky', 'grass', 'brick')
CLASSES = THING_CLASSES + STUFF_CLASSES
PALETTE = [[230, 200, 40], [150, 60, 200], [40, 200, 220], [90, 140, 230],
           [60, 160, 60], [170, 70, 50]]
FORMAT_VERSION = 1


def _stuff_texture(rng: np.random.Generator, cls: str, h: int, w: int):
    yy, xx = np.mgrid[0:h, 0:w].astype(np.float32)
    noise = rng.normal(0, 1, (h, w)).astype(np.float32)
    if cls == 'sky':  # smooth vertical gradient of blue
        base = np.array([90, 140, 230], np.float32) + rng.uniform(-20, 20, 3)
        img = base[None, None] * (0.75 + 0.25 * yy[..., None] / h)
        img += 4 * noise[..., None]
    elif cls == 'grass':  # green with strong high-frequency noise
        base = np.array([60, 160, 60], np.float32) + rng.uniform(-20, 20, 3)
        img = base[None, None] + 30 * noise[..., None] * np.array(
            [0.3, 1.0, 0.3], np.float32)
    else:  # brick: reddish horizontal stripes
        base = np.array([170, 70, 50], np.float32) + rng.uniform(-20, 20, 3)
        period = rng.uniform(5, 8)
        stripes = (np.sin(2 * np.pi * yy / period) > 0.6).astype(np.float32)
        img = base[None, None] * (1 - 0.45 * stripes[..., None])
        img += 6 * noise[..., None]
    return img


def _thing_mask(rng: np.random.Generator, cls: str, h: int, w: int):
    mask = np.zeros((h, w), np.uint8)
    r = int(rng.integers(max(4, h // 12), max(6, h // 5)))
    cy, cx = int(rng.integers(r, h - r)), int(rng.integers(r, w - r))
    if cls == 'disc':
        cv2.circle(mask, (cx, cy), r, 1, -1)
    elif cls == 'box':
        cv2.rectangle(mask, (cx - r, cy - r), (cx + r, cy + r), 1, -1)
    else:
        pts = np.array([[cx, cy - r], [cx - r, cy + r], [cx + r, cy + r]],
                       np.int32)
        cv2.fillPoly(mask, [pts], 1)
    return mask.astype(bool)


def make_sample(index: int, size: int = 64, seed: int = 0):
    """Image (H, W, 3) uint8 RGB, semantic map (H, W) uint8 and segments
    [(class, mask)] of one sample; deterministic in (index, size, seed)."""
    rng = np.random.default_rng([seed, index])
    h = w = size
    img = np.zeros((h, w, 3), np.float32)
    sem = np.zeros((h, w), np.uint8)
    # 1-3 stuff bands separated by wavy horizontal boundaries
    n_bands = int(rng.integers(1, 4))
    stuff = rng.choice(len(STUFF_CLASSES), n_bands, replace=False)
    xs = np.arange(w)
    bounds = sorted(rng.uniform(0.2, 0.8, n_bands - 1) * h)
    rows = np.arange(h)[:, None]
    band = np.zeros((h, w), np.int64)
    for b in bounds:
        wave = b + rng.uniform(2, 6) * np.sin(
            2 * np.pi * xs / rng.uniform(20, 60) + rng.uniform(0, 6))
        band += (rows >= wave[None, :]).astype(np.int64)
    segments = []
    for i, s in enumerate(stuff):
        region = band == i
        if not region.any():
            continue
        cls = len(THING_CLASSES) + int(s)
        img[region] = _stuff_texture(rng, STUFF_CLASSES[s], h, w)[region]
        sem[region] = cls
        segments.append([cls, region])
    # 1-4 things, later ones drawn on top of earlier ones
    for _ in range(int(rng.integers(1, 5))):
        t = int(rng.integers(len(THING_CLASSES)))
        mask = _thing_mask(rng, THING_CLASSES[t], h, w)
        color = np.array(PALETTE[t], np.float32) + rng.uniform(-25, 25, 3)
        img[mask] = color + rng.normal(0, 5, (int(mask.sum()), 3))
        sem[mask] = t
        for seg in segments:
            seg[1] = seg[1] & ~mask
        segments.append([t, mask])
    segments = [(c, m) for c, m in segments if m.any()]
    img = np.clip(img, 0, 255).astype(np.uint8)
    return img, sem, segments


def _id2rgb(ids: np.ndarray) -> np.ndarray:
    rgb = np.zeros(ids.shape + (3, ), np.uint8)
    for c in range(3):
        rgb[..., c] = (ids >> (8 * c)) & 255
    return rgb


def categories() -> List[Dict]:
    return [
        dict(id=i + 1, name=name, supercategory=name,
             isthing=int(name in THING_CLASSES)) for i, name in enumerate(CLASSES)
    ]


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
                _write_instances(root)
                return root
    from mmengine.utils import ProgressBar
    for split, count, offset in (('train', num_train, 0),
                                 ('val', num_val, 1_000_000)):
        for d in (f'img_dir/{split}', f'ann_dir/{split}',
                  f'annotations/panoptic_{split}'):
            os.makedirs(osp.join(root, d), exist_ok=True)
        images, annotations = [], []
        bar = ProgressBar(count) if progress else None
        for i in range(count):
            name = f'{i:05d}'
            img, sem, segments = make_sample(offset + i, size, seed)
            cv2.imwrite(osp.join(root, f'img_dir/{split}/{name}.png'),
                        img[..., ::-1])
            cv2.imwrite(osp.join(root, f'ann_dir/{split}/{name}.png'), sem)
            pan = np.zeros(sem.shape, np.int64)
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
            cv2.imwrite(
                osp.join(root, f'annotations/panoptic_{split}/{name}.png'),
                _id2rgb(pan)[..., ::-1])
            images.append(dict(id=i, file_name=f'{name}.png', height=size,
                               width=size))
            annotations.append(
                dict(image_id=i, file_name=f'{name}.png',
                     segments_info=infos))
            if bar:
                bar.update()
        if bar:
            print()
        with open(osp.join(root, f'annotations/panoptic_{split}.json'),
                  'w') as f:
            json.dump(dict(images=images, annotations=annotations,
                           categories=categories()), f)
    _write_instances(root)
    with open(meta_file, 'w') as f:
        json.dump(params, f)
    return root


def _write_instances(root: str) -> None:
    """The instance ground truth of the val split (things only), from its
    panoptic annotations: what ``CocoMetric(metric='segm')`` scores
    ``pred_instances`` against."""
    out = osp.join(root, 'annotations', 'instances_val.json')
    if not osp.isfile(out):
        from .panoptic_to_instances import panoptic_to_instances
        panoptic_to_instances(
            osp.join(root, 'annotations', 'panoptic_val.json'),
            osp.join(root, 'annotations', 'panoptic_val'), out)
