"""Data transforms that OpenMMLab lacks."""
import numpy as np
from mmcv.transforms import BaseTransform
from mmseg.datasets.transforms import LoadAnnotations as MMSegLoadAnnotations

from mmmaskformer.registry import TRANSFORMS


@TRANSFORMS.register_module()
class DropCrowdInstances(BaseTransform):
    """Drop crowd things from the instance arrays of a panoptic sample.

    Put it right after mmdet's ``LoadPanopticAnnotations``. That transform
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
class LoadAnnotations(MMSegLoadAnnotations):
    """mmseg's ``LoadAnnotations`` that names the file it cannot decode.

    mmseg's transform fails with ``'NoneType' object has no attribute
    'squeeze'`` on an unreadable or corrupt label map; in the
    ``mmmaskformer`` scope this one (same arguments, same output) raises a
    ``ValueError`` with the path instead.
    """

    def _load_seg_map(self, results: dict) -> None:
        path = results.get('seg_map_path')
        try:
            super()._load_seg_map(results)
        except (AttributeError, OSError, ValueError) as e:
            raise ValueError(f'failed to load annotation: {path} '
                             f'({type(e).__name__}: {e})') from e
