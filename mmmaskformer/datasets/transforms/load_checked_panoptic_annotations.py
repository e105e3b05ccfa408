"""mmdet's ``LoadPanopticAnnotations`` that checks the PNG against its
``segments_info``.

Same arguments and outputs (``gt_bboxes``, ``gt_bboxes_labels``,
``gt_ignore_flags``, ``gt_masks`` of the thing segments, ``gt_seg_map`` with
255 for VOID) and the same values as mmdet's for every consistent
annotation. Boxes and labels come from mmdet's own ``LoadAnnotations``
(called through its public ``transform``); the PNG is read once, checked,
and turned into masks here. Refused with a ``ValueError`` naming the PNG:
what :mod:`.file_checks` refuses, a PNG of another size than its image, a
PNG id that no segment of the image lists (0 is VOID), a listed segment
missing from the PNG, and a segment that the JSON lists with area 0 or an
empty box (mmdet drops those, see ``CheckedCocoPanopticDataset``) but that
occurs in the PNG, whose pixels would silently become VOID.
"""
from typing import Optional

import numpy as np
from mmcv.transforms import BaseTransform
from mmdet.datasets.transforms import LoadAnnotations
from mmdet.structures.mask import BitmapMasks
from panopticapi.utils import rgb2id

from mmmaskformer.errors import printable
from mmmaskformer.registry import TRANSFORMS

from .file_checks import DEFAULT_MAX_PIXELS, decode_checked, read_checked
from .label_maps import check_label_size

VOID = 255  # gt_seg_map value of pixels no segment covers (mmdet's)


@TRANSFORMS.register_module()
class LoadCheckedPanopticAnnotations(BaseTransform):
    """See the module docstring; arguments are mmdet's, plus

    Args:
        max_pixels: refuse PNGs with more pixels than this, from their
            header, before decoding (``None``: no limit).
    """

    def __init__(self, with_bbox: bool = True, with_label: bool = True,
                 with_mask: bool = True, with_seg: bool = True,
                 box_type: str = 'hbox', imdecode_backend: str = 'cv2',
                 backend_args: Optional[dict] = None,
                 max_pixels: Optional[int] = DEFAULT_MAX_PIXELS) -> None:
        self.boxes_and_labels = LoadAnnotations(
            with_bbox=with_bbox, with_label=with_label, with_mask=False,
            with_seg=False, box_type=box_type, backend_args=backend_args)
        self.with_mask = with_mask
        self.with_seg = with_seg
        self.imdecode_backend = imdecode_backend
        self.backend_args = backend_args
        self.max_pixels = max_pixels

    def transform(self, results: dict) -> dict:
        results = self.boxes_and_labels.transform(results)
        path = results.get('seg_map_path')
        if path is None or not (self.with_mask or self.with_seg):
            return results
        ids = self.read_segment_ids(path, results)
        segments = results['segments_info']
        if self.with_mask:
            h, w = results['ori_shape']
            results['gt_masks'] = BitmapMasks(
                [(ids == s['id']).astype(np.uint8) for s in segments
                 if s.get('is_thing')], h, w)
        if self.with_seg:
            results['gt_seg_map'] = self.semantic_map(ids, segments)
        return results

    def read_segment_ids(self, path: str, results: dict) -> np.ndarray:
        """The PNG's segment ids (H, W), checked against the image's size
        and its listed segments (module docstring)."""
        data, _ = read_checked(path, self.backend_args,
                               'panoptic annotation', self.max_pixels)
        png = decode_checked(data, path, 'panoptic annotation', flag='color',
                             channel_order='rgb',
                             backend=self.imdecode_backend)
        check_label_size(png, results, path)
        ids = rgb2id(png)
        segments = results['segments_info']
        listed = np.unique(np.asarray(
            list(results.get('listed_segment_ids', ())) +
            [s['id'] for s in segments], np.int64))
        pos = np.minimum(np.searchsorted(listed, ids), max(len(listed) - 1,
                                                           0))
        is_listed = listed[pos] == ids if len(listed) else \
            np.zeros(ids.shape, bool)
        unlisted = np.unique(ids[~is_listed & (ids != 0)])
        if unlisted.size:
            raise ValueError(
                f'{printable(path)}: segment ids {unlisted[:10].tolist()} are '
                'in the PNG but no segment of its image lists them')
        pixels = dict(zip(listed.tolist(), np.bincount(
            pos[is_listed], minlength=len(listed)).tolist()))
        missing = [s['id'] for s in segments if not pixels.get(s['id'])]
        if missing:
            raise ValueError(
                f'{printable(path)}: listed segments {missing[:10]} do not '
                'occur in the PNG')
        dropped = results.get('dropped_segments')
        if dropped:
            found = [(i, pixels[i]) for i in dropped['ids'] if pixels.get(i)]
            if found:
                raise ValueError(
                    f'{printable(dropped["json"])}: image '
                    f'{printable(dropped["image"])}: segment '
                    f'{found[0][0]} is listed with area 0 or an empty bbox '
                    f'but has {found[0][1]} pixels in {printable(path)}'
                    + (f' (and segments {[i for i, _ in found[1:10]]})'
                       if len(found) > 1 else ''))
        return ids

    @staticmethod
    def semantic_map(ids: np.ndarray, segments: list) -> np.ndarray:
        """``gt_seg_map``: each segment's pixels get its category, the rest
        VOID; the dtype of ``ids`` (as mmdet's)."""
        seg = np.full(ids.shape, VOID, ids.dtype)
        for s in segments:
            seg[ids == s['id']] = s['category']
        return seg
