"""Semantic inference from (class, mask) pairs: pure functions (paper Sec. 3.4
and Table 5).

Shapes: Q queries, K classes (logits have K+1, the last = no object),
H x W pixels. Every function returns (K, H, W) scores whose argmax over K is
the semantic prediction; a leading batch dimension is accepted where noted.
"""
import torch


def probabilistic_semantic_inference(cls_logits: torch.Tensor,
                                     mask_logits: torch.Tensor
                                     ) -> torch.Tensor:
    """Paper Sec. 3.4 / official ``semantic_inference`` (the default).

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


def general_semantic_inference(cls_logits: torch.Tensor,
                               mask_logits: torch.Tensor,
                               score_threshold: float = 0.3) -> torch.Tensor:
    """Table 5 "general": drop queries whose top class is no-object or whose
    score ``max_c p(c)`` is not above ``score_threshold`` (0.3 in the paper),
    then give each pixel the class of the kept query with the largest
    ``score * sigmoid(mask)``; segments of one class merge.

    (Q, K+1), (Q, H, W) -> (K, H, W) with ``scores[c] = max over kept
    queries of class c of score * sigmoid(mask)`` (0 where none), whose
    argmax is exactly that assignment. With no query kept it falls back to
    the probabilistic scores.
    """
    num_classes = cls_logits.shape[-1] - 1
    scores, labels = cls_logits.float().softmax(-1).max(-1)
    keep = labels.ne(num_classes) & (scores > score_threshold)
    if not keep.any():
        return probabilistic_semantic_inference(cls_logits, mask_logits)
    prob_masks = scores[keep, None, None] * mask_logits[keep].float().sigmoid()
    out = prob_masks.new_zeros((num_classes, ) + prob_masks.shape[-2:])
    index = labels[keep][:, None, None].expand_as(prob_masks)
    return out.scatter_reduce(0, index, prob_masks, reduce='amax')


def iterative_semantic_inference(cls_logits: torch.Tensor,
                                 mask_logits: torch.Tensor,
                                 min_contribution: float = 0.3,
                                 max_rounds: int = 100) -> torch.Tensor:
    """Table 5 "+ iterative": probabilistic inference that removes masks which
    do not contribute to the result, repeated until none is removed.

    The official release does not implement it; this is our reading of the
    paper ("removes a mask if its contribution to the final semantic
    segmentation output is less than 30% of its mask area"):

    1. run probabilistic inference over the remaining queries;
    2. for each remaining query q with class ``c_q = argmax_{c<K} p_q(c)``
       and mask area ``A_q = #(sigmoid(m_q) >= 0.5)``, its contribution is
       ``#(sigmoid(m_q) >= 0.5 and prediction == c_q)``;
    3. remove every query with ``contribution < min_contribution * A_q``
       (queries with an empty mask have nothing to lose and stay);
    4. repeat from 1 while something was removed and a query remains.

    (Q, K+1), (Q, H, W) -> (K, H, W) probabilistic scores of the final set.
    """
    cls_prob = cls_logits.float().softmax(-1)[:, :-1]  # (Q, K)
    mask_prob = mask_logits.float().sigmoid()  # (Q, H, W)
    on = mask_prob >= 0.5
    area = on.sum((1, 2))  # (Q,)
    top_class = cls_prob.argmax(1)  # (Q,)
    keep = torch.ones(len(cls_prob), dtype=torch.bool,
                      device=cls_prob.device)
    for _ in range(max_rounds):
        scores = torch.einsum('qc,qhw->chw', cls_prob[keep], mask_prob[keep])
        pred = scores.argmax(0)  # (H, W)
        agree = on & (pred[None] == top_class[:, None, None])
        contribution = agree.sum((1, 2))
        drop = keep & (contribution < min_contribution * area)
        if not drop.any() or drop.sum() == keep.sum():
            return scores
        keep &= ~drop
    return torch.einsum('qc,qhw->chw', cls_prob[keep], mask_prob[keep])


SEMANTIC_INFERENCE = dict(
    probabilistic=probabilistic_semantic_inference,
    general=general_semantic_inference,
    iterative=iterative_semantic_inference)
