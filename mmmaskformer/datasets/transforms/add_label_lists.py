"""The last transform before the stock Pack: which labels a sample holds, as
host lists, and arrays that Pack can turn into tensors."""
import numpy as np
from mmcv.transforms import BaseTransform

from mmmaskformer.registry import TRANSFORMS

ARRAY_KEYS = ('img', 'gt_seg_map')


def fools_pack(array) -> bool:
    """True for an array with a negative stride that numpy still calls
    C-contiguous: a flipped axis of length 1 (the flip of a 1-pixel-wide
    or -high image). The stock Pack transforms trust ``flags.c_contiguous``
    and hand it to ``torch.from_numpy``, which refuses negative strides."""
    return (isinstance(array, np.ndarray) and array.flags.c_contiguous
            and any(s < 0 for s in array.strides))


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

    As the last step before Pack it also copies the one kind of array Pack
    cannot convert (:func:`fools_pack`: a flipped 1-pixel-wide image); the
    values are unchanged, and every other array is passed as it is.
    """

    def transform(self, results: dict) -> dict:
        for key in ARRAY_KEYS:
            if fools_pack(results.get(key)):
                results[key] = results[key].copy()  # positive strides
        seg = results.get('gt_seg_map')
        if seg is not None:
            results['seg_labels'] = np.unique(seg).tolist()
        labels = results.get('gt_bboxes_labels')
        if labels is not None:
            results['instance_labels'] = np.asarray(labels).tolist()
        return results
