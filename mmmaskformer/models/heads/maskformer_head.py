"""MaskFormerHead: the mask-classification segmentation module.

Data flow (paper Fig. 2)::

    feats -> pixel_decoder -> pixel_embed (B, C, H/4, W/4), memory
    memory -> transformer_decoder -> hs (L, B, Q, D)
    hs -> cls_embed -> cls_logits (L, B, Q, K+1)
    hs -> mask_embed (3-layer MLP) -> (L, B, Q, C)
       --einsum with pixel_embed--> mask_logits (L, B, Q, H/4, W/4)

The same head serves semantic segmentation (through mmseg's
``EncoderDecoder``: ``loss``/``predict`` below) and panoptic segmentation
(through :class:`MaskFormerPanoptic`, which calls ``forward``, ``loss_by_targets``
and the panoptic inference): only the targets and the post-processing differ.
"""
from typing import Dict, List, Optional, Sequence

import torch
import torch.nn.functional as F
from mmengine.model import BaseModule
from torch import nn

from mmmaskformer.layers import MLP
from mmmaskformer.registry import MODELS, build_scoped
from mmmaskformer.structures import MaskFormerOutput, MaskTargets

from ..inference import SEMANTIC_INFERENCE
from ..utils import labels_present


def set_up_head(head: nn.Module, num_classes: int,
                in_channels: Sequence[int], pixel_decoder: dict,
                ignore_index: int, align_corners: bool) -> None:
    """What every mask-classification head of this package holds: the class
    count (also as mmseg's ``out_channels``), the ignore label,
    ``align_corners`` (read by mmseg's ``EncoderDecoder``) and the pixel
    decoder built on the backbone's ``in_channels``."""
    head.num_classes = num_classes
    head.out_channels = num_classes  # read by mmseg's EncoderDecoder
    head.ignore_index = ignore_index
    head.align_corners = align_corners
    head.pixel_decoder = build_scoped(
        MODELS, pixel_decoder, in_channels=list(in_channels))


@MODELS.register_module()
class MaskFormerHead(BaseModule):
    """Pixel decoder + transformer decoder + class and mask predictions.

    Named after the paper's module, so it shares its name with mmseg's and
    mmdet's ``MaskFormerHead``; configs name it ``mmmaskformer.MaskFormerHead``.

    Args:
        num_classes: K, the number of classes (the classifier has K+1).
        in_channels: channels of the backbone levels (strides 4..32).
        pixel_decoder: config of the pixel decoder (``FPNPixelDecoder`` ...).
        transformer_decoder: config of the transformer decoder; its
            ``in_channels`` is taken from the pixel decoder's memory.
        criterion: config of the :class:`SetCriterion`.
        ignore_index: label of ignored pixels in semantic maps; such pixels
            are negatives in every target mask (official).
        align_corners: kept for mmseg's ``EncoderDecoder``; MaskFormer
            upsamples with ``align_corners=False``.
    """

    def __init__(self, num_classes: int, in_channels: Sequence[int],
                 pixel_decoder: dict, transformer_decoder: dict,
                 criterion: Optional[dict] = None, ignore_index: int = 255,
                 align_corners: bool = False, init_cfg=None) -> None:
        super().__init__(init_cfg)
        set_up_head(self, num_classes, in_channels, pixel_decoder,
                    ignore_index, align_corners)
        self.transformer_decoder = build_scoped(
            MODELS, transformer_decoder,
            in_channels=self.pixel_decoder.memory_channels)
        hidden_dim = self.transformer_decoder.hidden_dim
        self.cls_embed = nn.Linear(hidden_dim, num_classes + 1)
        self.mask_embed = MLP(hidden_dim, hidden_dim,
                              self.pixel_decoder.mask_dim, 3)
        self.criterion = build_scoped(
            MODELS, criterion or dict(type='SetCriterion'),
            num_classes=num_classes)

    # ------------------------------------------------------------------ core
    def forward(self, feats: List[torch.Tensor]) -> MaskFormerOutput:
        pixel_embed, memory = self.pixel_decoder(feats)
        hs = self.transformer_decoder(memory)  # (L, B, Q, D)
        cls_logits = self.cls_embed(hs)  # (L, B, Q, K+1)
        mask_embed = self.mask_embed(hs)  # (L, B, Q, C)
        mask_logits = torch.einsum('lbqc,bchw->lbqhw', mask_embed,
                                   pixel_embed)  # (L, B, Q, H/4, W/4)
        return MaskFormerOutput(cls_logits, mask_logits)

    def loss_by_targets(self, outputs: MaskFormerOutput,
                        targets: Sequence[MaskTargets]
                        ) -> Dict[str, torch.Tensor]:
        return self.criterion(outputs.cls_logits, outputs.mask_logits, targets)

    # ------------------------------------------- mmseg (semantic) interface
    def semantic_targets(self, batch_data_samples) -> List[MaskTargets]:
        """One mask per class present, ignored pixels excluded from all.

        The classes present come from the sample's ``seg_labels`` (a host
        list our ``PackSegInputs`` packs after the augmentation), so no
        device-to-host sync is needed; without it they are found with
        ``torch.unique`` on the device. Raises ``ValueError`` naming the
        file when a label is neither a class nor ``ignore_index``.
        """
        targets = []
        for sample in batch_data_samples:
            gt = sample.gt_sem_seg.data[0]  # (H, W)
            classes = [c for c in labels_present(sample, gt)
                       if c != self.ignore_index]
            bad = [c for c in classes if not 0 <= c < self.num_classes]
            if bad:
                raise ValueError(
                    f'{sample.metainfo.get("seg_map_path", "<unknown file>")}'
                    f': label values {bad} are outside [0, '
                    f'{self.num_classes}) and are not ignore_index='
                    f'{self.ignore_index}. Check the dataset\'s label map '
                    f'or the model\'s num_classes.')
            labels = torch.tensor(classes, dtype=torch.int64).to(
                gt.device, non_blocking=True)
            masks = gt[None] == labels[:, None, None]  # (M, H, W)
            targets.append(MaskTargets(labels, masks))
        return targets

    def loss(self, inputs: List[torch.Tensor], batch_data_samples,
             train_cfg=None) -> Dict[str, torch.Tensor]:
        return self.loss_by_targets(self(inputs),
                                    self.semantic_targets(batch_data_samples))

    @staticmethod
    def _output_size(batch_img_metas: List[dict]):
        # the same rule as mmseg's BaseDecodeHead.predict_by_feat
        meta = batch_img_metas[0]
        if isinstance(meta['img_shape'], torch.Size):
            return meta['img_shape']
        if 'pad_shape' in meta:
            return meta['pad_shape'][:2]
        return meta['img_shape']

    def predict(self, inputs: List[torch.Tensor], batch_img_metas: List[dict],
                test_cfg=None) -> torch.Tensor:
        """Semantic score maps (B, K, H, W) at the (padded) input size.

        Mask logits of the last layer are upsampled bilinearly to the input
        size, then combined with the class probabilities by
        ``test_cfg.semantic_inference``: ``'probabilistic'`` (default, paper
        Sec. 3.4), ``'general'`` (score filter ``test_cfg.score_threshold``,
        0.3) or ``'iterative'`` (``test_cfg.min_contribution``, 0.3); see
        :mod:`mmmaskformer.models.inference.semantic`.
        mmseg's ``EncoderDecoder`` then crops the padding, resizes to the
        original size and takes the argmax.
        """
        return self.semantic_scores(self(inputs),
                                    self._output_size(batch_img_metas),
                                    test_cfg)

    def semantic_scores(self, outputs: MaskFormerOutput, size,
                        test_cfg=None) -> torch.Tensor:
        """The score maps (B, K, *size) of :meth:`predict` from the head's
        outputs (also what ``tools/deploy/export_onnx.py`` exports)."""
        mask_logits = F.interpolate(outputs.mask_logits[-1], size=size,
                                    mode='bilinear', align_corners=False)
        test_cfg = test_cfg or {}
        mode = test_cfg.get('semantic_inference', 'probabilistic')
        if mode not in SEMANTIC_INFERENCE:
            raise ValueError(f'test_cfg.semantic_inference={mode!r}: expected '
                             f'one of {sorted(SEMANTIC_INFERENCE)}')
        cls_logits = outputs.cls_logits[-1]
        if mode == 'probabilistic':  # one batched einsum
            return SEMANTIC_INFERENCE[mode](cls_logits, mask_logits)
        kwargs = dict(general=dict(
            score_threshold=test_cfg.get('score_threshold', 0.3)),
                      iterative=dict(min_contribution=test_cfg.get(
                          'min_contribution', 0.3)))[mode]
        return torch.stack([
            SEMANTIC_INFERENCE[mode](cls_logits[b], mask_logits[b], **kwargs)
            for b in range(len(cls_logits))
        ])
