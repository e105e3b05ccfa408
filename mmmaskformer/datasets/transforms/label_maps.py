"""Checks of a decoded label map, shared by the semantic and panoptic
loaders: its type and channels, and its size against its image's."""
import numpy as np

from mmmaskformer.errors import printable


def as_label_map(seg: np.ndarray, path: str) -> np.ndarray:
    """One channel, uint8 or uint16, or a ValueError naming ``path``.

    A 1-bit PNG decodes (Pillow, mmseg's default backend) to booleans; they
    become 0/1 as in mmseg. Wider integers are kept when they fit 16 bits.
    """
    seg = np.asarray(seg)
    if seg.ndim == 3 and seg.shape[2] == 1:
        seg = seg[..., 0]
    if seg.ndim != 2:
        raise ValueError(
            f'{printable(path)}: label map has shape {seg.shape} '
            f'({seg.shape[-1]} channels); a single-channel label map '
            '(grayscale or palette PNG) is expected')
    if seg.dtype in (np.uint8, np.uint16):
        return seg
    if seg.dtype == np.bool_:
        return seg.astype(np.uint8)
    if not np.issubdtype(seg.dtype, np.integer):
        raise ValueError(f'{printable(path)}: label map has dtype '
                         f'{seg.dtype}; integer labels are expected')
    low, high = int(seg.min()), int(seg.max())
    if low < 0 or high > 65535:
        raise ValueError(f'{printable(path)}: label values span '
                         f'[{low}, {high}], outside 16 bits')
    return seg.astype(np.uint16)


def check_label_size(label: np.ndarray, results: dict, path: str) -> None:
    """A ValueError naming ``path`` and its image if the label's size is
    not the loaded image's (``ori_shape``)."""
    shape = results.get('ori_shape')
    if shape is None or tuple(label.shape[:2]) == tuple(shape[:2]):
        return
    hint = ''
    if results.get('exif_orientation', 1) != 1:
        hint = (f'; the image was rotated by its EXIF orientation '
                f'{results["exif_orientation"]}: for a label drawn on the '
                'stored pixels, load the image with '
                "color_type='color_ignore_orientation'")
    raise ValueError(
        f'{printable(path)}: label size {label.shape[0]}x{label.shape[1]} '
        f'differs from its image\'s {shape[0]}x{shape[1]} '
        f'({printable(results.get("img_path"))}){hint}')
