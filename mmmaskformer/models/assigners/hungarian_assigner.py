"""Bipartite matching of predicted masks to ground-truth segments."""
from typing import List, Optional, Sequence

import numpy as np
import torch
import torch.nn.functional as F
from scipy.optimize import linear_sum_assignment

from mmmaskformer.registry import TASK_UTILS
from mmmaskformer.structures import FlatMatches, MaskTargets

from ..losses.functional import pairwise_dice_cost, pairwise_sigmoid_focal_cost
from ..losses.point_sampling import point_sample


def downsample_target_masks(masks: torch.Tensor, size, dtype) -> torch.Tensor:
    """(M, H, W) -> (M, h*w) by nearest sampling, as the official matcher
    (pixel (i, j) takes target pixel (floor(i*H/h), floor(j*W/w)))."""
    if masks.shape[0] == 0:
        return masks.new_zeros((0, size[0] * size[1]), dtype=dtype)
    masks = F.interpolate(masks[:, None].to(dtype), size=size, mode='nearest')
    return masks[:, 0].flatten(1)


@TASK_UTILS.register_module()
class MaskFormerHungarianAssigner:
    """Hungarian matching with the official MaskFormer cost.

    ``C = cost_class * (-softmax(cls)[label]) + cost_mask * focal + cost_dice
    * dice``, the mask costs computed at the prediction resolution (stride 4)
    against nearest-downsampled targets, solved with
    ``scipy.optimize.linear_sum_assignment``.

    Every decoder layer is matched on its own outputs (official deep
    supervision). The costs of all layers and images are computed in one pass
    per image and moved to the CPU with a single transfer.

    ``num_points`` (opt-in memory-efficient mode, Mask2Former): the mask
    costs are computed on that many uniformly random points per image,
    shared by all predictions and targets (targets sampled bilinearly at full
    resolution) instead of on the whole stride-4 grid.
    """

    def __init__(self, cost_class: float = 1.0, cost_mask: float = 20.0,
                 cost_dice: float = 1.0, focal_alpha: float = 0.25,
                 focal_gamma: float = 2.0,
                 num_points: Optional[int] = None) -> None:
        self.cost_class = cost_class
        self.cost_mask = cost_mask
        self.cost_dice = cost_dice
        self.focal_alpha = focal_alpha
        self.focal_gamma = focal_gamma
        self.num_points = num_points

    @torch.no_grad()
    def cost_matrices(self, cls_logits: torch.Tensor,
                      mask_logits: torch.Tensor,
                      targets: Sequence[MaskTargets]) -> List[torch.Tensor]:
        """Cost of every (layer, query, target) per image.

        cls_logits (L, B, Q, K+1), mask_logits (L, B, Q, h, w)
        -> list over B of (L, Q, M_b), on the device of the inputs.
        """
        costs, offsets = self._costs(cls_logits, mask_logits, targets)
        if isinstance(costs, list):
            return costs
        return [costs[:, b, :, offsets[b]:offsets[b + 1]]
                for b in range(len(targets))]

    def _costs(self, cls_logits, mask_logits, targets):
        """(costs, target offsets): with the exact grid one (L, B, Q, M)
        tensor against the targets of all images (image b's own columns
        ``offsets[b]:offsets[b + 1]``), computed in one pass for the batch;
        with ``num_points`` a list over images of (L, Q, M_b)."""
        offsets = np.cumsum([0] + [len(t.labels) for t in targets])
        # float32 whatever the autocast context (Mask2Former): the focal cost
        # sums over h*w pixels, past fp16's range at stride 4 of 512x512,
        # and bf16's 8-bit mantissa ties or flips close costs
        with torch.autocast(device_type=cls_logits.device.type,
                            enabled=False):
            cls_logits, mask_logits = cls_logits.float(), mask_logits.float()
            if self.num_points:
                return self._point_costs(cls_logits, mask_logits,
                                         targets), offsets
            return self._grid_costs(cls_logits, mask_logits,
                                    targets), offsets

    @staticmethod
    def _padded_masks(targets) -> List[torch.Tensor]:
        # targets of different sizes are zero-padded to the batch's largest
        # first (official: prepare_targets pads to the padded batch), so a
        # smaller image's masks are not stretched over the whole grid
        pad_h = max((t.masks.shape[-2] for t in targets), default=0)
        pad_w = max((t.masks.shape[-1] for t in targets), default=0)
        out = []
        for target in targets:
            masks = target.masks
            if masks.shape[-2:] != (pad_h, pad_w):
                masks = F.pad(masks.float(), (0, pad_w - masks.shape[-1], 0,
                                              pad_h - masks.shape[-2]))
            out.append(masks)
        return out

    def _grid_costs(self, cls_logits, mask_logits, targets) -> torch.Tensor:
        """All images at once: every prediction against every target of the
        batch (the other images' columns are computed and never read; they
        cost a matrix product, not launches)."""
        num_layers, num_images, num_queries = cls_logits.shape[:3]
        labels = torch.cat([t.labels for t in targets]) if targets else \
            cls_logits.new_zeros(0, dtype=torch.long)
        cost = -cls_logits.softmax(-1)[..., labels] * self.cost_class
        if labels.numel() == 0:
            return cost  # (L, B, Q, 0)
        masks = self._padded_masks(targets)
        tgt = downsample_target_masks(
            torch.cat(masks) if len(masks) > 1 else masks[0],
            mask_logits.shape[-2:], torch.float32)  # (M, hw)
        logits = mask_logits.flatten(0, 2).flatten(1)  # (L*B*Q, hw)
        focal = pairwise_sigmoid_focal_cost(logits, tgt, self.focal_alpha,
                                            self.focal_gamma)
        dice = pairwise_dice_cost(logits, tgt)
        return cost + (self.cost_mask * focal + self.cost_dice * dice).view(
            num_layers, num_images, num_queries, -1)

    def _point_costs(self, cls_logits, mask_logits,
                     targets) -> List[torch.Tensor]:
        """Per image, on ``num_points`` random points of that image."""
        num_layers, _, num_queries = cls_logits.shape[:3]
        costs = []
        for b, (target, masks) in enumerate(
                zip(targets, self._padded_masks(targets))):
            labels = target.labels
            prob = cls_logits[:, b].softmax(-1)  # (L, Q, K+1)
            cost = -prob[..., labels] * self.cost_class  # (L, Q, M)
            if labels.numel() > 0:
                coords = torch.rand(self.num_points, 2,
                                    device=mask_logits.device)
                tgt = point_sample(masks, coords)  # (M, P)
                logits = point_sample(mask_logits[:, b].flatten(0, 1),
                                      coords)
                focal = pairwise_sigmoid_focal_cost(
                    logits, tgt, self.focal_alpha, self.focal_gamma)
                dice = pairwise_dice_cost(logits, tgt)  # (L*Q, M)
                cost = cost + (self.cost_mask * focal + self.cost_dice *
                               dice).view(num_layers, num_queries, -1)
            costs.append(cost)
        return costs

    @torch.no_grad()
    def _solve(self, cls_logits, mask_logits, targets) -> np.ndarray:
        """(4, N) int64 host table: layer, image, query, target among all
        images' targets, grouped by layer then image, queries ascending."""
        costs, offsets = self._costs(cls_logits, mask_logits, targets)
        num_layers, num_images = cls_logits.shape[:2]
        # one device -> host transfer for all layers and images
        if isinstance(costs, list):  # point-sampled: per image
            sizes = [c[0].numel() for c in costs]
            flat = torch.cat([c.flatten(1) for c in costs], 1).cpu().numpy()
            bounds = np.cumsum([0] + sizes)
            host = [flat[:, bounds[b]:bounds[b + 1]].reshape(costs[b].shape)
                    for b in range(num_images)]
        else:
            full = costs.cpu().numpy()  # (L, B, Q, M)
            host = [full[:, b, :, offsets[b]:offsets[b + 1]]
                    for b in range(num_images)]
        rows = [np.zeros((4, 0), np.int64)]
        for layer in range(num_layers):
            for b in range(num_images):
                cost = host[b][layer]
                if not np.isfinite(cost).all():
                    # diverged predictions: match anyway, so that the loss
                    # (NaN/inf) reaches the optimizer wrapper's guard,
                    # which names the terms
                    cost = np.nan_to_num(cost, nan=1e8, posinf=1e8,
                                         neginf=-1e8)
                src, tgt = linear_sum_assignment(cost)
                rows.append(np.stack([np.full_like(src, layer),
                                      np.full_like(src, b), src,
                                      tgt + offsets[b]]).astype(np.int64))
        return np.concatenate(rows, axis=1)

    @torch.no_grad()
    def assign(self, cls_logits: torch.Tensor, mask_logits: torch.Tensor,
               targets: Sequence[MaskTargets]) -> FlatMatches:
        """Match every layer of every image.

        cls_logits (L, B, Q, K+1), mask_logits (L, B, Q, h, w) -> the pairs
        of all layers and images as flat int64 index tensors on the inputs'
        device, grouped by layer then image, queries ascending (scipy's
        order), targets indexed among all images' targets. Moved to the
        device in one transfer: with the costs' transfer to the host, one
        device-to-host sync per call.
        """
        table = torch.from_numpy(self._solve(cls_logits, mask_logits,
                                             targets))
        return FlatMatches(*table.to(cls_logits.device, non_blocking=True))
