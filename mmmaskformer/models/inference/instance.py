"""Instance segmentation from MaskFormer's (class, mask) pairs."""
import math
from typing import Iterable, NamedTuple, Optional

import torch


class InstanceResult(NamedTuple):
    masks: torch.Tensor  # (k, H, W) bool
    labels: torch.Tensor  # (k,) int64
    scores: torch.Tensor  # (k,) float


def instance_inference(cls_logits: torch.Tensor, mask_logits: torch.Tensor,
                       thing_classes: Iterable[int],
                       max_per_image: Optional[int] = None,
                       mask_threshold: float = 0.5) -> InstanceResult:
    """The top-k (query, class) pairs over all thing classes of one image.

    Each query may give several instances (one per thing class); the score
    of a pair is its class probability times the mean mask probability
    inside the binary mask (``sigmoid > mask_threshold``, 0.5: logit > 0). This is the
    rule of Mask2Former's ``instance_inference``
    (facebookresearch/Mask2Former, ``mask2former/maskformer_model.py``) and
    of the Hugging Face port's ``post_process_instance_segmentation``, with
    one difference: they take the top k over *all* classes and then drop the
    stuff ones when the model is panoptic; here the top k is taken over the
    thing classes directly, so that k instances come out.

    cls_logits (Q, K+1) (last = no object), mask_logits (Q, H, W);
    k = ``max_per_image`` (default Q). Returned by descending score.
    """
    num_queries, k1 = cls_logits.shape
    things = torch.as_tensor(sorted(int(c) for c in thing_classes),
                             dtype=torch.long, device=cls_logits.device)
    if things.numel() and (things.min() < 0 or things.max() >= k1 - 1):
        raise ValueError(f'thing classes {things.tolist()} are not all in '
                         f'[0, {k1 - 1})')
    probs = cls_logits.float().softmax(-1)[:, things]  # (Q, T)
    k = min(max_per_image or num_queries, probs.numel())
    top, index = probs.flatten().topk(k)  # sorted, descending
    query = torch.div(index, len(things), rounding_mode='floor')
    labels = things[index % len(things)]
    logits = mask_logits[query].float()
    if not 0 < mask_threshold < 1:
        raise ValueError(f'mask_threshold={mask_threshold}: expected a '
                         'probability in (0, 1)')
    # sigmoid(x) > t  <=>  x > log(t / (1 - t)), exact at t = 0.5
    masks = logits > math.log(mask_threshold / (1 - mask_threshold))
    mask_prob = (logits.sigmoid() * masks).flatten(1).sum(1) / (
        masks.flatten(1).sum(1) + 1e-6)
    scores = top * mask_prob
    order = scores.argsort(descending=True)
    return InstanceResult(masks[order], labels[order], scores[order])
