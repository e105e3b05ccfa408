"""mmseg's ``IoUMetric`` whose ``output_dir`` label maps keep more than 256
classes.

mmseg writes predictions with ``astype(np.uint8)``, which wraps class ids
above 255 (ADE20K-Full has 847) silently. Here mmseg's metric computes the
scores with no ``output_dir`` of its own, and this class writes the PNGs:
8-bit when every id fits, 16-bit otherwise.
"""
import os.path as osp
from collections import OrderedDict
from typing import Optional, Sequence

import numpy as np
from mmengine.dist import is_main_process
from mmengine.logging import print_log
from mmengine.utils import mkdir_or_exist
from mmseg.evaluation import IoUMetric
from PIL import Image

from mmmaskformer.registry import METRICS


def save_label_map(mask: np.ndarray, path: str) -> None:
    """8-bit PNG when the ids fit, 16-bit otherwise."""
    dtype = np.uint8 if mask.max(initial=0) <= 255 else np.uint16
    Image.fromarray(mask.astype(dtype)).save(path)


@METRICS.register_module()
class WideLabelIoUMetric(IoUMetric):
    """See the module docstring; arguments are mmseg's ``IoUMetric``'s."""

    def __init__(self, *args, output_dir: Optional[str] = None,
                 **kwargs) -> None:
        super().__init__(*args, output_dir=None, **kwargs)
        self.label_map_dir = output_dir
        if output_dir and is_main_process():
            mkdir_or_exist(output_dir)

    def process(self, data_batch: dict, data_samples: Sequence[dict]) -> None:
        super().process(data_batch, data_samples)
        if self.label_map_dir is None:
            return
        for data_sample in data_samples:
            mask = data_sample['pred_sem_seg']['data'].squeeze().cpu().numpy()
            if data_sample.get('reduce_zero_label', False):
                mask = mask + 1  # mmseg's convention for ADE20K's ids
            name = osp.splitext(osp.basename(data_sample['img_path']))[0]
            save_label_map(mask, osp.abspath(
                osp.join(self.label_map_dir, f'{name}.png')))

    def compute_metrics(self, results: list) -> dict:
        if self.format_only:
            print_log(f'results are saved to {self.label_map_dir}',
                      logger='current')
            return OrderedDict()
        return super().compute_metrics(results)
