"""COCO run-length encoding of binary masks."""
import numpy as np
from pycocotools import mask as mask_utils


def coco_rle(mask) -> dict:
    """COCO RLE of one (H, W) binary mask, JSON-ready (``counts`` as str)."""
    rle = mask_utils.encode(np.asfortranarray(np.asarray(mask, np.uint8)))
    rle['counts'] = rle['counts'].decode('ascii')
    return rle
