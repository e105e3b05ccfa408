"""Mask2FormerHead: Mask2Former's segmentation module, in MaskFormer's slot.

Data flow (Mask2Former paper Fig. 2; official ``MaskFormerHead`` of the
Mask2Former release, which shares MaskFormer's class name)::

    feats -> pixel_decoder (MSDeformAttnPixelDecoder)
          -> pixel_embed (B, E, H/4, W/4), memory [3 levels, 1/32 first]
    memory, pixel_embed -> transformer_decoder (masked attention)
          -> cls_logits (L+1, B, Q, K+1), mask_logits (L+1, B, Q, H/4, W/4)

The decoder owns the class and mask heads (one shared ``decoder_norm``
before every prediction), so the head only wires the two decoders to the
point-sampled criterion, which supervises every one of the L+1 predictions
(deep supervision, the first from the learnable query features).

The head has MaskFormer's interface, so the same segmentors run it and a
config switches model by naming this head instead of ``MaskFormerHead``:

* mmseg's ``EncoderDecoder`` (semantic): ``loss`` and ``predict``, the same
  targets (one mask per class present) and score maps as MaskFormer's head.
  ``predict`` combines at the padded size and mmseg crops and resizes the
  K score maps: the official order of the semantic-only configs.
* :class:`~mmmaskformer.models.segmentors.MaskFormerPanoptic` (panoptic and
  instance, mmdet's data): ``forward`` + ``loss_by_targets``, and the
  Mask2Former post-processing rules below, which the segmentor calls on
  mask logits already cropped and resized to the image (the official order
  of the panoptic and instance configs): :meth:`panoptic_result` (a segment
  keeps only its pixels with sigmoid >= 0.5) and :meth:`instance_result`
  (top k over all (query, class) pairs, then the thing filter when the
  model is panoptic). Thing-ness is membership in the classes the segmentor
  names, never an index range.
"""
from typing import Dict, List, Optional, Sequence

import torch
from mmengine.model import BaseModule

from mmmaskformer.registry import MODELS, build_scoped
from mmmaskformer.structures import MaskFormerOutput, MaskTargets, PanopticResult

from ..inference.mask2former import (
    TopKInstances,
    mask2former_instance_inference,
    mask2former_panoptic_inference,
)
from .maskformer_head import MaskFormerHead, set_up_head

# the official TEST.DETECTIONS_PER_IMAGE (detectron2 default, no config
# overrides it)
DEFAULT_TOPK = 100


@MODELS.register_module()
class Mask2FormerHead(BaseModule):
    """Multi-scale deformable pixel decoder + masked-attention transformer
    decoder + point-sampled set criterion (Mask2Former).

    Named after the paper's head, so it shares its name with mmdet's and
    mmseg's ``Mask2FormerHead`` (neither is used); configs name it
    ``mmmaskformer.Mask2FormerHead``.

    Args:
        num_classes: K (the classifier has K+1 outputs, the last no object).
        in_channels: channels of the backbone levels (strides 4..32, high
            resolution first).
        pixel_decoder: config of the pixel decoder
            (``mmmaskformer.MSDeformAttnPixelDecoder``).
        transformer_decoder: config of the decoder
            (``mmmaskformer.MultiScaleMaskedTransformerDecoder``); its
            ``in_channels`` (the pixel decoder's ``conv_dim``),
            ``num_classes`` and ``mask_dim`` are filled in here. Its
            ``hidden_dim`` is independent of ``conv_dim``.
        criterion: config of the criterion (default
            ``mmmaskformer.Mask2FormerCriterion`` with the official
            weights); ``num_classes`` is filled in.
        ignore_index: label of ignored pixels in semantic maps; such pixels
            are negatives in every target mask (official).
        align_corners: read by mmseg's ``EncoderDecoder``; Mask2Former
            upsamples with ``align_corners=False``.
    """

    def __init__(self, num_classes: int, in_channels: Sequence[int],
                 pixel_decoder: dict, transformer_decoder: dict,
                 criterion: Optional[dict] = None, ignore_index: int = 255,
                 align_corners: bool = False, init_cfg=None) -> None:
        super().__init__(init_cfg)
        set_up_head(self, num_classes, in_channels, pixel_decoder,
                    ignore_index, align_corners)
        decoder_cfg = dict(transformer_decoder)
        for key, value in (('in_channels', self.pixel_decoder.conv_dim),
                           ('num_classes', num_classes),
                           ('mask_dim', self.pixel_decoder.mask_dim)):
            if decoder_cfg.setdefault(key, value) != value:
                raise ValueError(
                    f'transformer_decoder.{key}={decoder_cfg[key]} but the '
                    f'head gives {value}; leave it out of the config')
        self.transformer_decoder = build_scoped(MODELS, decoder_cfg)
        self.criterion = build_scoped(
            MODELS, criterion or dict(type='Mask2FormerCriterion'),
            num_classes=num_classes)

    # ------------------------------------------------------------------ core
    def forward(self, feats: List[torch.Tensor]) -> MaskFormerOutput:
        """feats: the backbone levels, high resolution first ->
        cls_logits (L+1, B, Q, K+1), mask_logits (L+1, B, Q, H/4, W/4)."""
        pixel_embed, memory = self.pixel_decoder(feats)
        return self.transformer_decoder(memory, pixel_embed)

    def loss_by_targets(self, outputs: MaskFormerOutput,
                        targets: Sequence[MaskTargets]
                        ) -> Dict[str, torch.Tensor]:
        """The weighted losses of every prediction: ``loss_ce``,
        ``loss_mask``, ``loss_dice`` of the last, ``..._i`` of prediction i
        (0 = from the query features)."""
        return self.criterion(outputs.cls_logits, outputs.mask_logits,
                              targets)

    # ------------------------------------------- mmseg (semantic) interface
    # MaskFormer's, unchanged: the same targets (one mask per class present,
    # ignored pixels in none) and the same score maps (``semantic_scores``,
    # what the ONNX export and the inferencer call too).
    semantic_targets = MaskFormerHead.semantic_targets
    loss = MaskFormerHead.loss
    predict = MaskFormerHead.predict
    semantic_scores = MaskFormerHead.semantic_scores
    _output_size = staticmethod(MaskFormerHead._output_size)

    # ------------------------------- post-processing rules (the segmentor's)
    def panoptic_result(self, cls_logits: torch.Tensor,
                        mask_logits: torch.Tensor, thing_classes,
                        test_cfg: dict) -> PanopticResult:
        """Official Mask2Former panoptic inference of one image:
        cls_logits (Q, K+1), mask_logits (Q, H, W) at the output size.
        ``test_cfg``: ``object_mask_threshold``, ``overlap_threshold``,
        ``label_ids_to_fuse`` (default: the classes not in
        ``thing_classes``)."""
        return mask2former_panoptic_inference(
            cls_logits, mask_logits, thing_classes,
            test_cfg.get('object_mask_threshold', 0.8),
            test_cfg.get('overlap_threshold', 0.8),
            test_cfg.get('label_ids_to_fuse'))

    def instance_result(self, cls_logits: torch.Tensor,
                        mask_logits: torch.Tensor, thing_classes,
                        test_cfg: dict) -> TopKInstances:
        """Official Mask2Former instance inference of one image: the top
        ``test_cfg.max_per_image`` (default 100, the official
        ``TEST.DETECTIONS_PER_IMAGE``) (query, class) pairs; the pairs of
        classes outside ``thing_classes`` dropped only when the model is
        panoptic (``test_cfg.panoptic_on``, default True), as officially;
        binary masks at ``mask_threshold`` (0.5)."""
        panoptic_on = test_cfg.get('panoptic_on', True)
        return mask2former_instance_inference(
            cls_logits, mask_logits,
            test_cfg.get('max_per_image') or DEFAULT_TOPK,
            thing_classes if panoptic_on else None,
            test_cfg.get('mask_threshold', 0.5))
