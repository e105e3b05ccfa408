"""mmseg's ``LoadAnnotations`` that checks the label map and keeps 16-bit
labels.

Same arguments and output (``gt_seg_map``, ``seg_fields``) as mmseg's, and
the same values for every label mmseg loads correctly: ``reduce_zero_label``
maps 0 to 255 and v to v - 1 (255 stays 255), then the dataset's
``label_map`` renames values. mmseg's loader casts to ``uint8``, so a 16-bit
value 258 would silently become class 2; here 16-bit labels are kept as
``uint16`` (e.g. ADE20K-Full's 847 classes with ignore 65535; with
``reduce_zero_label``, 0 becomes the ignore index and the ignore index stays
itself, as 255 does for uint8). Refused with a
``ValueError`` naming the file: what :mod:`.file_checks` refuses, a label
with 3 or 4 channels or of a float type, a size other than its image's, and
values outside ``[0, K)`` that are not the ignore index (K and the ignore
index come from the dataset, through ``set_label_space``, which
``SampleGuard`` calls).
"""
from typing import Optional

import numpy as np
from mmseg.datasets.transforms import LoadAnnotations

from mmmaskformer.errors import printable
from mmmaskformer.registry import TRANSFORMS

from .file_checks import DEFAULT_MAX_PIXELS, decode_checked, read_checked
from .label_maps import as_label_map, check_label_size


def label_lookup(size: int, dtype, reduce_zero_label: bool,
                 label_map: Optional[dict], ignore_index: int) -> np.ndarray:
    """``lut`` with ``lut[v]`` the training label of stored value ``v``:
    ``reduce_zero_label`` first, then ``label_map`` (mmseg's order)."""
    lut = np.arange(size, dtype=np.int64)
    if reduce_zero_label:
        # mmseg's rule for uint8: 0 -> 255, v -> v - 1, 255 stays 255; for
        # uint16 the same with the dataset's ignore index if it is wider
        ignore = 255 if dtype == np.uint8 or ignore_index <= 255 \
            else ignore_index
        lut -= 1
        lut[0] = ignore
        if ignore < size:
            lut[ignore] = ignore
    if label_map:
        mapped = lut.copy()
        for old, new in label_map.items():
            mapped[lut == old] = new
        lut = mapped
    out_dtype = dtype if lut.max(initial=0) <= np.iinfo(dtype).max \
        else np.uint16
    return lut.astype(out_dtype)


@TRANSFORMS.register_module()
class LoadCheckedAnnotations(LoadAnnotations):
    """See the module docstring.

    Args:
        max_pixels: refuse label files with more pixels than this, from
            their header, before decoding (``None``: no limit).
        **kwargs: mmseg's ``LoadAnnotations`` arguments.
    """

    num_classes: Optional[int] = None
    ignore_index: int = 255

    def __init__(self, max_pixels: Optional[int] = DEFAULT_MAX_PIXELS,
                 **kwargs) -> None:
        super().__init__(**kwargs)
        self.max_pixels = max_pixels

    def set_label_space(self, num_classes: int, ignore_index: int) -> None:
        """Check values against ``[0, num_classes)`` and ``ignore_index``."""
        self.num_classes = int(num_classes)
        self.ignore_index = int(ignore_index)

    def transform(self, results: dict) -> dict:
        path = results['seg_map_path']
        data, _ = read_checked(path, self.backend_args, 'annotation',
                               self.max_pixels)
        seg = as_label_map(
            decode_checked(data, path, 'annotation', flag='unchanged',
                           backend=self.imdecode_backend), path)
        check_label_size(seg, results, path)
        reduce_zero_label = results.get('reduce_zero_label', False)
        if self.reduce_zero_label is not None and \
                self.reduce_zero_label != reduce_zero_label:
            raise ValueError(
                f'{printable(path)}: the dataset has reduce_zero_label='
                f'{reduce_zero_label} but {type(self).__name__} was given '
                f'reduce_zero_label={self.reduce_zero_label}')
        size = 256 if seg.dtype == np.uint8 else int(seg.max()) + 1
        lut = label_lookup(size, seg.dtype, reduce_zero_label,
                           results.get('label_map'), self.ignore_index)
        if self.num_classes is not None:
            present = np.nonzero(np.bincount(seg.ravel(), minlength=size))[0]
            labels = lut[present]
            bad = labels[(labels >= self.num_classes) &
                         (labels != self.ignore_index)]
            if bad.size:
                raise ValueError(
                    f'{printable(path)}: label values {bad[:10].tolist()} '
                    f'are outside [0, {self.num_classes}) and are not the '
                    f'ignore index {self.ignore_index}')
        results['gt_seg_map'] = lut[seg]
        results.setdefault('seg_fields', []).append('gt_seg_map')
        return results
