"""Sample one image of the generated shapes dataset: deterministic in
``(index, size, seed)``.

Textured "stuff" backgrounds (sky, grass, brick) split by wavy boundaries and
"thing" objects (discs, boxes, triangles) with several instances per image.
Class indices put things first (0..2) and stuff after (3..5), the order
mmdet's panoptic datasets use, so semantic and panoptic labels agree.

Every random draw comes from one ``numpy.random.Generator`` seeded with
``[seed, index]``, in a fixed order: changing the order of the draws below
changes every image (and the demo's numbers).
"""
from typing import List, Tuple

import cv2
import numpy as np

THING_CLASSES = ('disc', 'box', 'triangle')
STUFF_CLASSES = ('sky', 'grass', 'brick')
CLASSES = THING_CLASSES + STUFF_CLASSES
PALETTE = [[230, 200, 40], [150, 60, 200], [40, 200, 220], [90, 140, 230],
           [60, 160, 60], [170, 70, 50]]


def stuff_texture(rng: np.random.Generator, name: str, h: int,
                  w: int) -> np.ndarray:
    """A (h, w, 3) float32 RGB texture of stuff class ``name``."""
    yy, xx = np.mgrid[0:h, 0:w].astype(np.float32)
    noise = rng.normal(0, 1, (h, w)).astype(np.float32)
    if name == 'sky':  # smooth vertical gradient of blue
        base = np.array([90, 140, 230], np.float32) + rng.uniform(-20, 20, 3)
        img = base[None, None] * (0.75 + 0.25 * yy[..., None] / h)
        img += 4 * noise[..., None]
    elif name == 'grass':  # green with strong high-frequency noise
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


def thing_mask(rng: np.random.Generator, name: str, h: int,
               w: int) -> np.ndarray:
    """A (h, w) bool mask of one instance of thing class ``name``."""
    mask = np.zeros((h, w), np.uint8)
    r = int(rng.integers(max(4, h // 12), max(6, h // 5)))
    cy, cx = int(rng.integers(r, h - r)), int(rng.integers(r, w - r))
    if name == 'disc':
        cv2.circle(mask, (cx, cy), r, 1, -1)
    elif name == 'box':
        cv2.rectangle(mask, (cx - r, cy - r), (cx + r, cy + r), 1, -1)
    else:
        pts = np.array([[cx, cy - r], [cx - r, cy + r], [cx + r, cy + r]],
                       np.int32)
        cv2.fillPoly(mask, [pts], 1)
    return mask.astype(bool)


def make_sample(index: int, size: int = 64, seed: int = 0
                ) -> Tuple[np.ndarray, np.ndarray, List[Tuple[int, np.ndarray]]]:
    """Image (H, W, 3) uint8 RGB, semantic map (H, W) uint8 and segments
    [(class, mask)] of one sample; deterministic in (index, size, seed).

    Segments are the visible parts: stuff bands first, then things, each
    later thing drawn over the earlier ones; empty segments are left out.
    """
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
        img[region] = stuff_texture(rng, STUFF_CLASSES[s], h, w)[region]
        sem[region] = cls
        segments.append([cls, region])
    # 1-4 things, later ones drawn on top of earlier ones
    for _ in range(int(rng.integers(1, 5))):
        t = int(rng.integers(len(THING_CLASSES)))
        mask = thing_mask(rng, THING_CLASSES[t], h, w)
        color = np.array(PALETTE[t], np.float32) + rng.uniform(-25, 25, 3)
        img[mask] = color + rng.normal(0, 5, (int(mask.sum()), 3))
        sem[mask] = t
        for seg in segments:
            seg[1] = seg[1] & ~mask
        segments.append([t, mask])
    segments = [(c, m) for c, m in segments if m.any()]
    img = np.clip(img, 0, 255).astype(np.uint8)
    return img, sem, segments
