"""Test-time augmentation that merges as the official release does.

The official ``SemanticSegmentorWithTTA`` (``mask_former/
test_time_augmentation.py``) runs every (scale, flip) view, brings each
view's ``sem_seg`` back to the original image (un-flip, resize) and
**averages the score maps themselves**: MaskFormer's probabilistic scores
``sum_q p_q(c) m_q`` are already probabilities, not logits. mmseg's
``SegTTAModel`` takes a softmax of each view's scores before averaging,
which re-weights them and can change the argmax.

Un-flipping and resizing to the original size happen per view in mmseg's
``EncoderDecoder.postprocess_result`` (crop the padding, flip back, bilinear
to ``ori_shape``), as in the official model's ``sem_seg_postprocess``; this
class only replaces the merge.
"""
from typing import List

import torch
from mmengine.model import BaseTTAModel
from mmengine.structures import PixelData

from mmmaskformer.registry import MODELS


def merge_score_maps(score_maps: List[torch.Tensor]) -> torch.Tensor:
    """The official merge: the mean of the views' (K, H, W) score maps."""
    return torch.stack(score_maps).mean(0)


@MODELS.register_module()
class MaskFormerTTAModel(BaseTTAModel):
    """mmengine's TTA wrapper with the official merge (module docstring).

    Writes ``seg_logits`` (the mean score map) and ``pred_sem_seg`` (its
    argmax) like mmseg's ``SegTTAModel``, so ``IoUMetric``, ``--out`` and
    the visualisation hook work unchanged.
    """

    def merge_preds(self, data_samples_list):
        predictions = []
        for data_samples in data_samples_list:
            scores = merge_score_maps(
                [s.seg_logits.data for s in data_samples])
            merged = data_samples[-1]
            merged.set_data({'seg_logits': PixelData(data=scores),
                             'pred_sem_seg': PixelData(
                                 data=scores.argmax(dim=0, keepdim=True))})
            if hasattr(data_samples[0], 'gt_sem_seg'):
                merged.set_data({'gt_sem_seg': data_samples[0].gt_sem_seg})
            merged.set_metainfo({'img_path': data_samples[0].img_path})
            predictions.append(merged)
        return predictions
