"""mmseg's ``IoUMetric`` whose ``--out`` label maps keep more than 256
classes (registered under mmseg's name in our scope).

mmseg writes predictions with ``astype(np.uint8)``, which wraps class ids
above 255 (ADE20K-Full has 847) silently. Here the PNG is 8-bit when every
id fits and 16-bit otherwise; the scores are mmseg's, unchanged.
"""
import os.path as osp

import numpy as np
from mmseg.evaluation import IoUMetric as MMSegIoUMetric
from PIL import Image

from mmmaskformer.registry import METRICS


def save_label_map(mask: np.ndarray, path: str) -> None:
    """8-bit PNG when the ids fit, 16-bit otherwise."""
    dtype = np.uint8 if mask.max(initial=0) <= 255 else np.uint16
    Image.fromarray(mask.astype(dtype)).save(path)


@METRICS.register_module()
class WideLabelIoUMetric(MMSegIoUMetric):
    """See the module docstring; arguments are mmseg's."""

    def process(self, data_batch: dict, data_samples) -> None:
        output_dir, self.output_dir = self.output_dir, None
        try:
            super().process(data_batch, data_samples)
        finally:
            self.output_dir = output_dir
        if output_dir is None:
            return
        for data_sample in data_samples:
            mask = data_sample['pred_sem_seg']['data'].squeeze().cpu().numpy()
            if data_sample.get('reduce_zero_label', False):
                mask = mask + 1  # mmseg's convention for ADE20K's ids
            name = osp.splitext(osp.basename(data_sample['img_path']))[0]
            save_label_map(mask, osp.abspath(osp.join(output_dir,
                                                      f'{name}.png')))
