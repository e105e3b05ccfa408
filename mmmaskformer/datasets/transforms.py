"""Loading transforms that check their input, and one that OpenMMLab lacks.

In the ``mmmaskformer`` scope ``LoadImageFromFile``, ``LoadAnnotations`` and
``LoadPanopticAnnotations`` resolve to the classes below: same arguments and
outputs as mmcv's, mmseg's and mmdet's, plus checks that turn every input
that would fail deep inside a library, or silently give a wrong target, into
a ``ValueError`` naming the file and what is wrong with it:

* a file that is missing, empty, truncated (JPEG without its end marker, PNG
  without ``IEND``) or not an image;
* a label map with 3 or 4 channels, of a size other than its image's, with
  values outside ``[0, K)`` that are not the ignore index (K and the ignore
  index come from the dataset, see ``SampleGuard``), of a float type, or
  with 16-bit values (which mmseg's loader wraps modulo 256);
* a panoptic PNG with segment ids that no segment lists, listed segments
  missing from the PNG, or a size other than its image's.

Valid 16-bit labels (e.g. ADE20K-Full's 847 classes, ignore 65535) are kept
as ``uint16``; grayscale images are loaded as 3 channels (mmcv's ``color``).
"""
from typing import Optional

import mmcv
import numpy as np
from mmcv.transforms import BaseTransform
from mmcv.transforms import LoadImageFromFile as MMCVLoadImageFromFile
from mmdet.datasets.transforms import \
    LoadPanopticAnnotations as MMDetLoadPanopticAnnotations
from mmengine import fileio
from mmseg.datasets.transforms import LoadAnnotations as MMSegLoadAnnotations

from mmmaskformer.registry import TRANSFORMS


def encoded_image_problem(data: bytes) -> Optional[str]:
    """What is wrong with an encoded image file, judged from its bytes."""
    if len(data) == 0:
        return 'empty file (0 bytes)'
    if data[:2] == b'\xff\xd8':  # JPEG: must end with the EOI marker
        if not data.rstrip(b'\x00').endswith(b'\xff\xd9'):
            return 'truncated JPEG (no end-of-image marker)'
    elif data[:8] == b'\x89PNG\r\n\x1a\n':
        if b'IEND' not in data[-16:]:
            return 'truncated PNG (no IEND chunk)'
    return None


def read_file(path: str, backend_args, what: str) -> bytes:
    try:
        data = fileio.get(path, backend_args=backend_args)
    except FileNotFoundError:
        raise ValueError(f'failed to load {what}: {path}: no such file') \
            from None
    except OSError as e:
        raise ValueError(f'failed to load {what}: {path}: {e}') from None
    problem = encoded_image_problem(data)
    if problem:
        raise ValueError(f'failed to load {what}: {path}: {problem}')
    return data


def decode(data: bytes, path: str, what: str, **kwargs) -> np.ndarray:
    try:
        out = mmcv.imfrombytes(data, **kwargs)
    except Exception as e:  # noqa: BLE001 - cv2/PIL errors name no file
        raise ValueError(f'failed to load {what}: {path}: cannot be decoded '
                         f'({type(e).__name__}: {e})') from None
    if out is None:
        raise ValueError(f'failed to load {what}: {path}: not an image '
                         'file, or a corrupt one')
    return out


def check_size(label: np.ndarray, results: dict, path: str) -> None:
    shape = results.get('ori_shape')
    if shape is not None and tuple(label.shape[:2]) != tuple(shape[:2]):
        raise ValueError(
            f'{path}: label size {label.shape[0]}x{label.shape[1]} differs '
            f'from its image\'s {shape[0]}x{shape[1]} '
            f'({results.get("img_path")})')


@TRANSFORMS.register_module()
class LoadCheckedImage(MMCVLoadImageFromFile):
    """mmcv's ``LoadImageFromFile`` that names the file and the problem."""

    def transform(self, results: dict) -> Optional[dict]:
        filename = results['img_path']
        try:
            data = read_file(filename, self.backend_args, 'image')
            img = decode(data, filename, 'image', flag=self.color_type,
                         backend=self.imdecode_backend)
        except ValueError:
            if self.ignore_empty:
                return None
            raise
        if self.to_float32:
            img = img.astype(np.float32)
        results['img'] = img
        results['img_shape'] = img.shape[:2]
        results['ori_shape'] = img.shape[:2]
        return results


def as_label_map(seg: np.ndarray, path: str) -> np.ndarray:
    """One channel, uint8 or uint16, or a ValueError naming ``path``."""
    seg = np.asarray(seg)
    if seg.ndim == 3 and seg.shape[2] == 1:
        seg = seg[..., 0]
    if seg.ndim != 2:
        raise ValueError(
            f'{path}: label map has shape {seg.shape} ({seg.shape[-1]} '
            'channels); a single-channel label map (grayscale or palette '
            'PNG) is expected')
    if seg.dtype in (np.uint8, np.uint16):
        return seg
    if not np.issubdtype(seg.dtype, np.integer):
        raise ValueError(f'{path}: label map has dtype {seg.dtype}; integer '
                         'labels are expected')
    low, high = int(seg.min()), int(seg.max())
    if low < 0 or high > 65535:
        raise ValueError(f'{path}: label values span [{low}, {high}], '
                         'outside 16 bits')
    return seg.astype(np.uint16)


@TRANSFORMS.register_module()
class LoadCheckedAnnotations(MMSegLoadAnnotations):
    """mmseg's ``LoadAnnotations`` (same arguments and output) that checks
    the label map (see the module docstring) and keeps 16-bit labels."""

    num_classes: Optional[int] = None
    ignore_index: int = 255

    def set_label_space(self, num_classes: int, ignore_index: int) -> None:
        """Check values against ``[0, num_classes)`` and ``ignore_index``."""
        self.num_classes = int(num_classes)
        self.ignore_index = int(ignore_index)

    def _load_seg_map(self, results: dict) -> None:
        path = results['seg_map_path']
        data = read_file(path, self.backend_args, 'annotation')
        seg = as_label_map(
            decode(data, path, 'annotation', flag='unchanged',
                   backend=self.imdecode_backend), path)
        check_size(seg, results, path)
        if self.reduce_zero_label is None:
            self.reduce_zero_label = results['reduce_zero_label']
        assert self.reduce_zero_label == results['reduce_zero_label'], (
            'Initialize dataset with `reduce_zero_label` as '
            f'{results["reduce_zero_label"]} but when load annotation '
            f'the `reduce_zero_label` is {self.reduce_zero_label}')
        if self.reduce_zero_label:  # mmseg's rule: 0 -> 255, v -> v - 1
            if seg.dtype == np.uint8:
                seg = seg.copy()
                seg[seg == 0] = 255
                seg = seg - 1
                seg[seg == 254] = 255
            else:
                zero = seg == 0
                seg = seg - 1
                seg[zero] = self.ignore_index if self.ignore_index > 255 \
                    else 255
        if results.get('label_map', None) is not None:
            seg_copy = seg.copy()
            for old_id, new_id in results['label_map'].items():
                seg[seg_copy == old_id] = new_id
        if self.num_classes is not None:
            values = np.unique(seg)
            bad = values[(values >= self.num_classes) &
                         (values != self.ignore_index)]
            if bad.size:
                raise ValueError(
                    f'{path}: label values {bad[:10].tolist()} are outside '
                    f'[0, {self.num_classes}) and are not the ignore index '
                    f'{self.ignore_index}')
        results['gt_seg_map'] = seg
        results['seg_fields'].append('gt_seg_map')


@TRANSFORMS.register_module()
class LoadCheckedPanopticAnnotations(MMDetLoadPanopticAnnotations):
    """mmdet's ``LoadPanopticAnnotations`` (same arguments and output) that
    checks the PNG against its ``segments_info`` (module docstring)."""

    def _load_masks_and_semantic_segs(self, results: dict) -> None:
        path = results.get('seg_map_path', None)
        if path is None:
            return
        data = read_file(path, self.backend_args, 'panoptic annotation')
        png = decode(data, path, 'panoptic annotation', flag='color',
                     channel_order='rgb')
        check_size(png, results, path)
        ids = self.rgb2id(png)
        present = set(np.unique(ids).tolist()) - {0}  # 0: VOID
        segments = results['segments_info']
        listed = set(results.get('listed_segment_ids',
                                 [s['id'] for s in segments]))
        unlisted = sorted(present - listed)
        if unlisted:
            raise ValueError(
                f'{path}: segment ids {unlisted[:10]} are in the PNG but no '
                'segment of its image lists them')
        missing = sorted(s['id'] for s in segments if s['id'] not in present)
        if missing:
            raise ValueError(
                f'{path}: listed segments {missing[:10]} do not occur in the '
                'PNG')
        gt_masks = []
        gt_seg = np.zeros_like(ids) + 255  # 255: ignore (VOID)
        for segment in segments:
            mask = ids == segment['id']
            gt_seg = np.where(mask, segment['category'], gt_seg)
            if segment.get('is_thing'):
                gt_masks.append(mask.astype(np.uint8))
        if self.with_mask:
            from mmdet.structures.mask import BitmapMasks
            h, w = results['ori_shape']
            results['gt_masks'] = BitmapMasks(gt_masks, h, w)
        if self.with_seg:
            results['gt_seg_map'] = gt_seg


@TRANSFORMS.register_module()
class DropCrowdInstances(BaseTransform):
    """Drop crowd things from the instance arrays of a panoptic sample.

    Put it right after ``LoadPanopticAnnotations``. mmdet's transform
    leaves crowd segments out of ``gt_masks`` but keeps their boxes, labels
    and ``gt_ignore_flags``; ``PackDetInputs`` then indexes ``gt_masks`` with
    positions counted over all instances, which pairs masks with the wrong
    labels (or fails) as soon as an image has a crowd segment. After this
    transform the arrays agree. Crowd pixels stay in ``gt_seg_map`` with
    their thing label, so MaskFormer's panoptic targets treat them as
    background, as the official release does.
    """

    def transform(self, results: dict) -> dict:
        flags = results.get('gt_ignore_flags')
        if flags is None or not np.asarray(flags).any():
            return results
        keep = np.nonzero(~np.asarray(flags, dtype=bool))[0]
        for key in ('gt_bboxes', 'gt_bboxes_labels', 'gt_ignore_flags'):
            if key in results:
                results[key] = results[key][keep]
        masks = results.get('gt_masks')
        if masks is not None and len(masks) != len(keep):
            raise ValueError(
                f'{results.get("seg_map_path")}: {len(masks)} thing masks '
                f'for {len(keep)} non-crowd thing segments')
        return results


@TRANSFORMS.register_module()
class AddLabelLists(BaseTransform):
    """Which labels a sample holds, as host lists, for sync-free targets.

    Put it right before the stock ``PackSegInputs`` / ``mmdet.PackDetInputs``
    (after every augmentation) and name its keys in their ``meta_keys``:
    ``seg_labels`` (the values present in ``gt_seg_map``) and
    ``instance_labels`` (``gt_bboxes_labels``). The model then builds its
    mask targets without a device-to-host sync (``unique``, boolean
    indexing) on the training step; without them it falls back to
    ``torch.unique`` on the device (same targets).
    """

    def transform(self, results: dict) -> dict:
        seg = results.get('gt_seg_map')
        if seg is not None:
            results['seg_labels'] = np.unique(seg).tolist()
        labels = results.get('gt_bboxes_labels')
        if labels is not None:
            results['instance_labels'] = np.asarray(labels).tolist()
        return results
