"""mmcv's ``LoadImageFromFile`` that names a bad file, refuses a huge one
before decoding, and applies an image's EXIF orientation explicitly.

EXIF orientation, the convention: **mmcv's, which is also detectron2's**.
An image is loaded as it is displayed, i.e. rotated/flipped by its EXIF
Orientation tag (mmcv's ``LoadImageFromFile`` with ``color_type='color'``,
detectron2's ``read_image``); a label map is used as stored (mmseg reads
labels with ``flag='unchanged'``, which ignores EXIF; label PNGs carry no
EXIF in practice). So a label must be drawn on the upright, displayed image.

mmcv applies the tag only in its cv2 and Pillow backends; here it is applied
the same way by every backend: the JPEG or PNG header is read (other formats
are left to the decoder), the image is decoded as stored and rotated with
numpy, giving mmcv's cv2 and Pillow results exactly. A warning names the file
and the orientation (once per file and process), because a square image
rotated against a label drawn on the stored pixels cannot be detected any
other way; a label of the stored size of a non-square image is refused with
a hint. ``color_type='color_ignore_orientation'`` (or
``'grayscale_ignore_orientation'``) loads the stored pixels, for datasets
whose labels were drawn on them; ``'unchanged'`` never rotates (as mmcv).
"""
from typing import Optional

import numpy as np
from mmcv.transforms import LoadImageFromFile
from mmengine.logging import print_log

from mmmaskformer.errors import printable
from mmmaskformer.registry import TRANSFORMS

from .file_checks import DEFAULT_MAX_PIXELS, decode_checked, read_checked

# color_type -> the flag that decodes the stored pixels (no EXIF rotation)
_AS_STORED = {'color': 'color_ignore_orientation',
              'grayscale': 'grayscale_ignore_orientation'}
# Backends whose decoders would apply the EXIF orientation themselves.
_ROTATING_BACKENDS = ('cv2', 'pillow')


def apply_exif_orientation(img: np.ndarray, orientation: int) -> np.ndarray:
    """The displayed image of stored pixels ``img`` (H, W[, C]) with EXIF
    Orientation ``orientation`` (1-8), as Pillow's ``exif_transpose``.

    The tag says where the stored rows and columns go: 2 mirror, 3 rotate
    180, 4 flip vertically, 5 transpose, 6 rotate 90 clockwise, 7 transverse,
    8 rotate 90 counter-clockwise.
    """
    if orientation == 2:
        out = img[:, ::-1]
    elif orientation == 3:
        out = img[::-1, ::-1]
    elif orientation == 4:
        out = img[::-1]
    elif orientation == 5:
        out = np.swapaxes(img, 0, 1)
    elif orientation == 6:
        out = np.rot90(img, k=-1)
    elif orientation == 7:
        out = np.rot90(img, k=-1)[::-1]
    elif orientation == 8:
        out = np.rot90(img, k=1)
    else:
        return img
    return out.copy()  # C order, positive strides (also for width 1)


@TRANSFORMS.register_module()
class LoadCheckedImage(LoadImageFromFile):
    """mmcv's ``LoadImageFromFile`` (same arguments and outputs) that checks
    the file first (see :mod:`.file_checks`) and applies the EXIF
    orientation explicitly (module docstring).

    Args:
        max_pixels: refuse images with more pixels than this, from their
            header, before decoding (``None``: no limit).
        **kwargs: mmcv's ``LoadImageFromFile`` arguments.
    """

    def __init__(self, max_pixels: Optional[int] = DEFAULT_MAX_PIXELS,
                 **kwargs) -> None:
        super().__init__(**kwargs)
        self.max_pixels = max_pixels
        self._warned = set()  # files whose rotation was logged (per process)

    def transform(self, results: dict) -> Optional[dict]:
        filename = results['img_path']
        try:
            data, header = read_checked(filename, self.backend_args, 'image',
                                        self.max_pixels)
            orientation = header.exif_orientation
            rotate = orientation != 1 and self.color_type in _AS_STORED
            flag = self.color_type
            if rotate and self.imdecode_backend in _ROTATING_BACKENDS:
                flag = _AS_STORED[self.color_type]
            img = decode_checked(data, filename, 'image', flag=flag,
                                 backend=self.imdecode_backend)
        except ValueError:
            if self.ignore_empty:
                return None
            raise
        if rotate:
            img = apply_exif_orientation(img, orientation)
        if rotate and filename not in self._warned:
            self._warned.add(filename)
            print_log(
                f'{printable(filename)}: EXIF orientation {orientation}: '
                f'loaded rotated/flipped as displayed '
                f'({header.width}x{header.height} stored -> '
                f'{img.shape[1]}x{img.shape[0]}); its label must be drawn on '
                'the displayed image (color_type=\'color_ignore_orientation\' '
                'loads the stored pixels)', logger='current', level=30)
        if self.to_float32:
            img = img.astype(np.float32)
        results['img'] = img
        results['img_shape'] = img.shape[:2]
        results['ori_shape'] = img.shape[:2]
        if rotate:
            results['exif_orientation'] = orientation
        return results
