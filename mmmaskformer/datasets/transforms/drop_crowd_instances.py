"""Drop crowd things from the instance arrays of a panoptic sample."""
import numpy as np
from mmcv.transforms import BaseTransform

from mmmaskformer.errors import printable
from mmmaskformer.registry import TRANSFORMS


@TRANSFORMS.register_module()
class DropCrowdInstances(BaseTransform):
    """Drop crowd things from the instance arrays of a panoptic sample.

    Put it right after ``LoadCheckedPanopticAnnotations``. mmdet's loader
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
                f'{printable(results.get("seg_map_path"))}: {len(masks)} '
                f'thing masks for {len(keep)} non-crowd thing segments')
        return results
