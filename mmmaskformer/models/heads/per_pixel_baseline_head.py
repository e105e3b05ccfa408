"""The paper's per-pixel classification baselines (Table 1/2, official
``per_pixel_baseline.py``), as mmseg decode heads.

* ``PerPixelBaselineHead``: the FPN pixel decoder and a 1x1 conv classifier
  on the per-pixel embedding; per-pixel cross-entropy.
* ``PerPixelBaselinePlusHead``: the pixel decoder and MaskFormer's
  transformer decoder with N = K queries whose mask logits are the per-pixel
  class logits (query i = class i); per-pixel cross-entropy on the last and,
  with deep supervision, every auxiliary layer.

Logits are at stride 4 and are upsampled x4 (bilinear) for the loss and for
inference, as in the official code.
"""
from typing import Dict, List, Sequence

import torch
import torch.nn.functional as F
from mmengine.model import BaseModule
from torch import nn

from mmmaskformer.layers import MLP
from mmmaskformer.registry import MODELS, build_scoped


class _PerPixelHead(BaseModule):
    """Shared mmseg decode-head plumbing: targets, loss, predict."""

    common_stride = 4

    def __init__(self, num_classes: int, in_channels: Sequence[int],
                 pixel_decoder: dict, ignore_index: int = 255,
                 loss_weight: float = 1.0, align_corners: bool = False,
                 init_cfg=None) -> None:
        super().__init__(init_cfg)
        self.num_classes = num_classes
        self.out_channels = num_classes
        self.ignore_index = ignore_index
        self.loss_weight = loss_weight
        self.align_corners = align_corners
        self.pixel_decoder = build_scoped(
            MODELS, pixel_decoder, in_channels=list(in_channels))

    # subclasses define ``layer_logits(feats)``: a list of per-pixel logits
    # (B, K, H/4, W/4), one per supervised layer, the last layer last

    def forward(self, feats: List[torch.Tensor]) -> torch.Tensor:
        return self.layer_logits(feats)[-1]

    def _upsample(self, logits: torch.Tensor) -> torch.Tensor:
        return F.interpolate(logits, scale_factor=self.common_stride,
                             mode='bilinear', align_corners=False)

    def loss(self, inputs, batch_data_samples, train_cfg=None
             ) -> Dict[str, torch.Tensor]:
        gt = torch.stack([s.gt_sem_seg.data[0] for s in batch_data_samples])
        layers = self.layer_logits(inputs)
        losses = {}
        for i, logits in enumerate(layers):
            key = 'loss_sem_seg' if i == len(layers) - 1 else \
                f'loss_sem_seg_{i}'
            logits = self._upsample(logits)
            losses[key] = self.loss_weight * F.cross_entropy(
                logits.float(), gt[:, :logits.shape[-2], :logits.shape[-1]],
                ignore_index=self.ignore_index)
        return losses

    def predict(self, inputs, batch_img_metas, test_cfg=None) -> torch.Tensor:
        logits = self._upsample(self(inputs))
        meta = batch_img_metas[0]
        if isinstance(meta['img_shape'], torch.Size):
            size = meta['img_shape']
        else:
            size = meta.get('pad_shape', meta['img_shape'])[:2]
        if tuple(logits.shape[-2:]) != tuple(size):
            logits = F.interpolate(logits, size=size, mode='bilinear',
                                   align_corners=False)
        return logits


@MODELS.register_module()
class PerPixelBaselineHead(_PerPixelHead):
    """PerPixelBaseline: pixel decoder + 1x1 conv classifier (msra init)."""

    def __init__(self, num_classes: int, in_channels: Sequence[int],
                 pixel_decoder: dict, **kwargs) -> None:
        super().__init__(num_classes, in_channels, pixel_decoder, **kwargs)
        self.predictor = nn.Conv2d(self.pixel_decoder.mask_dim, num_classes,
                                   1)
        nn.init.kaiming_normal_(self.predictor.weight, mode='fan_out',
                                nonlinearity='relu')
        nn.init.constant_(self.predictor.bias, 0)

    def layer_logits(self, feats):
        return [self.predictor(self.pixel_decoder(feats).pixel_embed)]


@MODELS.register_module()
class PerPixelBaselinePlusHead(_PerPixelHead):
    """PerPixelBaseline+: the transformer decoder with N = K queries used as
    per-pixel logits; ``deep_supervision`` adds a loss per auxiliary layer."""

    def __init__(self, num_classes: int, in_channels: Sequence[int],
                 pixel_decoder: dict, transformer_decoder: dict,
                 deep_supervision: bool = True, **kwargs) -> None:
        super().__init__(num_classes, in_channels, pixel_decoder, **kwargs)
        transformer_decoder = dict(transformer_decoder,
                                   num_queries=num_classes)
        self.transformer_decoder = build_scoped(
            MODELS, transformer_decoder,
            in_channels=self.pixel_decoder.memory_channels)
        hidden = self.transformer_decoder.hidden_dim
        self.mask_embed = MLP(hidden, hidden, self.pixel_decoder.mask_dim, 3)
        self.deep_supervision = deep_supervision

    def layer_logits(self, feats):
        pixel_embed, memory = self.pixel_decoder(feats)
        hs = self.transformer_decoder(memory)  # (L, B, K, D)
        if not (self.training and self.deep_supervision):
            hs = hs[-1:]
        logits = torch.einsum('lbqc,bchw->lbqhw', self.mask_embed(hs),
                              pixel_embed)  # (L, B, K, H/4, W/4)
        return list(logits)
