"""MaskFormer for panoptic segmentation through MMDetection's data pipeline.

The head, matcher and criterion are exactly the semantic ones
(:class:`MaskFormerHead`); only the targets (one mask per thing instance,
one per stuff class) and the post-processing (general inference) differ.
"""
from typing import Dict, List, Optional, Sequence, Tuple

import torch
import torch.nn.functional as F
from mmdet.models.detectors.base import BaseDetector
from mmdet.structures import DetDataSample
from mmengine.structures import InstanceData, PixelData

from mmmaskformer.registry import MODELS, build_scoped

from ..inference import (
    crop_and_resize,
    instance_inference,
    panoptic_inference,
    probabilistic_semantic_inference,
)
from .panoptic_targets import panoptic_targets

INSTANCE_OFFSET = 1000  # mmdet's panoptic id = label + instance * 1000


@MODELS.register_module()
class MaskFormerPanoptic(BaseDetector):
    """Backbone + :class:`MaskFormerHead`, scored by mmdet's
    ``CocoPanopticMetric``.

    Args:
        backbone: backbone config (e.g. ``mmdet.ResNet``).
        panoptic_head: :class:`MaskFormerHead` config; its ``num_classes``
            is ``num_things + num_stuff``.
        num_things: the thing classes are labels ``[0, num_things)``
            (mmdet's datasets order things first).
        thing_classes: the thing labels, for data whose things do not come
            first (e.g. the official contiguous ids of ADE20K or
            Cityscapes, where things and stuff interleave); overrides
            ``num_things``. Training targets, the panoptic and the
            instance outputs all read them.
        test_cfg: ``object_mask_threshold`` and ``overlap_threshold`` of the
            general inference (official COCO 0.8/0.8, ADE20K 0.7/0.8);
            ``semantic_on`` also writes ``pred_sem_seg`` (probabilistic
            inference); ``instance_on`` also writes ``pred_instances``
            (masks, labels, scores, boxes of the masks; the top
            ``max_per_image`` (query, thing class) pairs, default the number
            of queries: :func:`instance_inference`), scored by mmdet's
            ``CocoMetric(metric='segm')``; ``label_ids_to_fuse`` (default
            the stuff classes) and ``mask_threshold`` (0.5) as in
            :class:`mmmaskformer.apis.MaskFormerInferencer`;
            ``panoptic_on`` (default True) writes ``pred_panoptic_seg``
            (False for a model trained on instances only).

    The post-processing rules are the head's when it has them
    (``panoptic_result``/``instance_result``, e.g. :class:`Mask2FormerHead`),
    MaskFormer's otherwise. Ground truth without ``gt_sem_seg`` (mmdet's
    ``CocoDataset``, instance segmentation) gives thing targets only.
    """

    def __init__(self, backbone: dict, panoptic_head: dict,
                 num_things: Optional[int] = None,
                 thing_classes: Optional[Sequence[int]] = None,
                 test_cfg: Optional[dict] = None,
                 data_preprocessor: Optional[dict] = None,
                 init_cfg=None) -> None:
        super().__init__(data_preprocessor=data_preprocessor,
                         init_cfg=init_cfg)
        self.backbone = build_scoped(MODELS, backbone)
        self.panoptic_head = build_scoped(MODELS, panoptic_head)
        self.num_classes = self.panoptic_head.num_classes
        if thing_classes is None:
            if num_things is None:
                raise ValueError('MaskFormerPanoptic: give num_things or '
                                 'thing_classes')
            thing_classes = range(num_things)
        thing_classes = sorted(set(int(c) for c in thing_classes))
        bad = [c for c in thing_classes if not 0 <= c < self.num_classes]
        if bad:
            raise ValueError(f'MaskFormerPanoptic: thing_classes {bad} are '
                             f'outside [0, num_classes={self.num_classes})')
        self._thing_classes = tuple(thing_classes)
        self.num_things = len(thing_classes)
        self.test_cfg = dict(object_mask_threshold=0.8, overlap_threshold=0.8,
                             panoptic_on=True, semantic_on=False,
                             instance_on=False, max_per_image=None)
        self.test_cfg.update(test_cfg or {})

    @property
    def thing_classes(self) -> Tuple[int, ...]:
        """The thing labels, ascending."""
        return self._thing_classes

    def extract_feat(self, batch_inputs: torch.Tensor) -> List[torch.Tensor]:
        return list(self.backbone(batch_inputs))

    def _forward(self, batch_inputs, batch_data_samples=None):
        return self.panoptic_head(self.extract_feat(batch_inputs))

    def loss(self, batch_inputs: torch.Tensor,
             batch_data_samples) -> Dict[str, torch.Tensor]:
        outputs = self.panoptic_head(self.extract_feat(batch_inputs))
        targets = panoptic_targets(batch_data_samples, self.thing_classes,
                                   self.num_classes,
                                   self.panoptic_head.ignore_index)
        return self.panoptic_head.loss_by_targets(outputs, targets)

    def predict(self, batch_inputs: torch.Tensor, batch_data_samples,
                rescale: bool = True) -> List[DetDataSample]:
        """Upsample the last layer's mask logits to the padded input, crop
        each image's padding, resize to the original size (``rescale``),
        then run general (panoptic) inference on the logits (official
        ``sem_seg_postprocess`` before inference)."""
        outputs = self.panoptic_head(self.extract_feat(batch_inputs))
        cls_logits = outputs.cls_logits[-1]  # (B, Q, K+1)
        mask_logits = F.interpolate(
            outputs.mask_logits[-1], size=batch_inputs.shape[-2:],
            mode='bilinear', align_corners=False)  # (B, Q, H_pad, W_pad)
        for b, sample in enumerate(batch_data_samples):
            out_size = sample.ori_shape if rescale else sample.img_shape
            logits = crop_and_resize(mask_logits[b], sample.img_shape,
                                     out_size)  # (Q, H, W)
            if self.test_cfg.get('panoptic_on', True):
                result = self.panoptic_result(cls_logits[b], logits)
                # mmdet's id map (what its metric and visualizer read), and
                # the official one with its segments_info (what the
                # inferencer returns)
                sample.pred_panoptic_seg = PixelData(
                    sem_seg=self.to_mmdet_panoptic(result)[None],
                    panoptic_seg=result.panoptic_seg[None],
                    metainfo=dict(segments_info=result.segments_info))
            if self.test_cfg.get('semantic_on', False):
                scores = probabilistic_semantic_inference(cls_logits[b],
                                                          logits)
                sample.pred_sem_seg = PixelData(
                    sem_seg=scores.argmax(0, keepdim=True))
            if self.test_cfg.get('instance_on', False):
                sample.pred_instances = self.to_instances(
                    self.instance_result(cls_logits[b], logits))
        return batch_data_samples

    def panoptic_result(self, cls_logits: torch.Tensor,
                        mask_logits: torch.Tensor):
        """One image's panoptic result by the head's rule, or
        MaskFormer's (general inference)."""
        rule = getattr(self.panoptic_head, 'panoptic_result', None)
        if rule is not None:
            return rule(cls_logits, mask_logits, self.thing_classes,
                        self.test_cfg)
        return panoptic_inference(
            cls_logits, mask_logits, self.thing_classes,
            self.test_cfg['object_mask_threshold'],
            self.test_cfg['overlap_threshold'],
            self.test_cfg.get('label_ids_to_fuse'))

    def instance_result(self, cls_logits: torch.Tensor,
                        mask_logits: torch.Tensor):
        """One image's instances (``masks``, ``labels``, ``scores``) by
        the head's rule, or MaskFormer's top k over the thing classes."""
        rule = getattr(self.panoptic_head, 'instance_result', None)
        if rule is not None:
            return rule(cls_logits, mask_logits, self.thing_classes,
                        self.test_cfg)
        return instance_inference(cls_logits, mask_logits,
                                  self.thing_classes,
                                  self.test_cfg.get('max_per_image'),
                                  self.test_cfg.get('mask_threshold', 0.5))

    @staticmethod
    def to_instances(result) -> InstanceData:
        """mmdet's ``pred_instances``: bool masks, labels, scores and the
        masks' boxes (x1, y1, x2, y2; what ``CocoMetric`` also reads)."""
        from mmdet.structures.mask import mask2bbox
        return InstanceData(masks=result.masks, labels=result.labels,
                            scores=result.scores,
                            bboxes=mask2bbox(result.masks))

    def to_mmdet_panoptic(self, result) -> torch.Tensor:
        """Official ids + segments_info -> mmdet's id map (H, W) int64:
        ``label + instance * 1000`` for things (instances from 1), ``label``
        for stuff, ``num_classes`` for void."""
        seg = result.panoptic_seg
        out = torch.full(seg.shape, self.num_classes, dtype=torch.int64,
                         device=seg.device)
        instance = 0
        for info in result.segments_info:
            value = info['category_id']
            if info['isthing']:
                instance += 1
                value += instance * INSTANCE_OFFSET
            out[seg == info['id']] = value
        return out
