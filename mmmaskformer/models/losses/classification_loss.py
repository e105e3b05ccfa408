"""The MaskFormer classification loss."""
import torch
import torch.nn.functional as F
from torch import nn

from mmmaskformer.registry import MODELS


@MODELS.register_module()
class MaskClassificationLoss(nn.Module):
    """Cross-entropy over K+1 classes with a down-weighted no-object class.

    The class-weighted mean over all B*Q queries (PyTorch's weighted mean),
    so the no-object weight enters the denominator too; not divided by
    ``num_masks`` (official ``loss_labels``). Under DDP each rank takes its
    own weighted mean (a mean of means across ranks, as in the official
    8-GPU runs).
    """

    def __init__(self, num_classes: int, no_object_weight: float = 0.1,
                 loss_weight: float = 1.0) -> None:
        super().__init__()
        self.num_classes = num_classes
        self.loss_weight = loss_weight
        weight = torch.ones(num_classes + 1)
        weight[-1] = no_object_weight
        self.register_buffer('class_weight', weight, persistent=False)

    def forward(self, cls_logits: torch.Tensor,
                target_classes: torch.Tensor) -> torch.Tensor:
        """cls_logits (B, Q, K+1), target_classes (B, Q) int64 -> a scalar;
        or (L, B, Q, K+1), (L, B, Q) -> (L,), each layer's own weighted mean
        (all layers in one pass)."""
        weight = self.class_weight.to(cls_logits.device)
        if cls_logits.dim() == 3:
            return F.cross_entropy(cls_logits.float().transpose(1, 2),
                                   target_classes, weight)
        num_layers = cls_logits.shape[0]
        weighted_nll = F.cross_entropy(
            cls_logits.float().flatten(0, 2), target_classes.flatten(),
            weight, reduction='none').view(num_layers, -1)
        return weighted_nll.sum(1) / weight[target_classes].view(
            num_layers, -1).sum(1)
