"""Semantic inference from (class, mask) pairs: pure functions.

Shapes: Q queries, K classes (logits have K+1, the last = no object),
H x W pixels.
"""
import torch


def probabilistic_semantic_inference(cls_logits: torch.Tensor,
                                     mask_logits: torch.Tensor
                                     ) -> torch.Tensor:
    """Paper Sec. 3.4 / official ``semantic_inference``.

    ``scores[c, h, w] = sum_q softmax(cls)[q, c] * sigmoid(mask)[q, h, w]``,
    the no-object column dropped after the softmax (no renormalisation).
    Works with or without a leading batch dimension:
    (B, Q, K+1), (B, Q, H, W) -> (B, K, H, W).
    """
    cls_prob = cls_logits.float().softmax(-1)[..., :-1]
    mask_prob = mask_logits.float().sigmoid()
    if cls_logits.dim() == 2:
        return torch.einsum('qc,qhw->chw', cls_prob, mask_prob)  # (K, H, W)
    return torch.einsum('bqc,bqhw->bchw', cls_prob, mask_prob)  # (B, K, H, W)
