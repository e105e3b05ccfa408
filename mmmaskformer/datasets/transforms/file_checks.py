"""Read and decode an image or label file, or say in one line what is wrong.

Shared by the three loaders. Every failure is a ``ValueError`` whose
message starts with ``failed to load <what>: <path>:``, so that the
bad-sample policy (``SampleGuard``) can name the file and the reason.
"""
from typing import Optional, Tuple

import mmcv
import numpy as np
from mmengine import fileio

from mmmaskformer.errors import printable

from .encoded_image import ImageHeader, read_header

# Refuse files with more pixels than this from their header, before
# decoding: 10^8 pixels is 300 MB as 8-bit RGB, above the largest images of
# common segmentation benchmarks (aerial ones reach a few tens of
# megapixels). Every loader takes ``max_pixels`` to change it (None: no
# limit).
DEFAULT_MAX_PIXELS = 100_000_000


def read_checked(path: str, backend_args: Optional[dict], what: str,
                 max_pixels: Optional[int]) -> Tuple[bytes, ImageHeader]:
    """The bytes and header facts of ``path``, or a ValueError naming it:
    missing, unreadable, empty, truncated, or larger than ``max_pixels``."""
    name = printable(path)
    try:
        data = fileio.get(path, backend_args=backend_args)
    except FileNotFoundError:
        raise ValueError(f'failed to load {what}: {name}: no such file') \
            from None
    except OSError as e:  # a directory, a symlink loop, no permission ...
        reason = e.strerror or printable(e)
        raise ValueError(f'failed to load {what}: {name}: {reason}') \
            from None
    header = read_header(data)
    if header.problem:
        raise ValueError(f'failed to load {what}: {name}: {header.problem}')
    if (max_pixels is not None and header.width is not None
            and header.height is not None
            and header.width * header.height > max_pixels):
        raise ValueError(
            f'failed to load {what}: {name}: {header.width}x{header.height} '
            f'pixels ({header.width * header.height}) exceed the limit of '
            f'{max_pixels} (the transform\'s max_pixels; refused before '
            'decoding)')
    return data, header


def decode_checked(data: bytes, path: str, what: str,
                   **kwargs) -> np.ndarray:
    """``mmcv.imfrombytes(data, **kwargs)``, or a ValueError naming
    ``path`` (cv2 and Pillow errors name no file; cv2 returns None)."""
    try:
        out = mmcv.imfrombytes(data, **kwargs)
    except Exception as e:  # noqa: BLE001 - cv2/PIL errors name no file
        raise ValueError(f'failed to load {what}: {printable(path)}: cannot '
                         f'be decoded ({type(e).__name__}: {e})') from None
    if out is None:
        raise ValueError(f'failed to load {what}: {printable(path)}: not an '
                         'image file, or a corrupt one')
    return out
