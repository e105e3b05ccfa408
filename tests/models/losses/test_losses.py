"""Losses and matching costs against hand-computed values."""
import math

import torch

import mmmaskformer  # noqa: F401
from mmmaskformer.models.losses import (
    MaskClassificationLoss,
    dice_loss,
    pairwise_dice_cost,
    pairwise_sigmoid_focal_cost,
    sigmoid_focal_loss,
)


def test_focal_hand_computed():
    # pixel 1: x=0, t=1 -> p_t=0.5, CE=ln2, alpha_t=0.25
    #   0.25 * 0.5**2 * ln2 = 0.04332169878
    # pixel 2: x=2, t=0 -> p=sigmoid(2), p_t=1-p, CE=ln(1+e^2), alpha_t=0.75
    #   0.75 * sigmoid(2)**2 * ln(1+e^2) = 1.23755863
    logits = torch.tensor([[0.0, 2.0]])
    targets = torch.tensor([[1.0, 0.0]])
    p = 1 / (1 + math.exp(-2))
    expected = (0.25 * 0.25 * math.log(2) +
                0.75 * p**2 * math.log(1 + math.exp(2))) / 2
    assert abs(expected - 0.64044017) < 1e-7
    got = sigmoid_focal_loss(logits, targets)
    assert got.shape == (1, )
    assert abs(got.item() - expected) < 1e-6


def test_dice_hand_computed():
    # p = [0.5, 0.5], t = [1, 0]: 1 - (2*0.5 + 1) / (1 + 1 + 1) = 1/3
    got = dice_loss(torch.zeros(1, 2), torch.tensor([[1.0, 0.0]]))
    assert abs(got.item() - 1 / 3) < 1e-7
    # a perfect, confident prediction: p ~ t -> ~0
    got = dice_loss(torch.tensor([[30.0, -30.0]]), torch.tensor([[1.0, 0.0]]))
    assert got.item() < 1e-6


def test_pairwise_costs_equal_per_pair_losses():
    g = torch.Generator().manual_seed(0)
    logits = torch.randn(5, 30, generator=g) * 3
    targets = (torch.rand(3, 30, generator=g) > 0.5).float()
    focal = pairwise_sigmoid_focal_cost(logits, targets)
    dice = pairwise_dice_cost(logits, targets)
    assert focal.shape == dice.shape == (5, 3)
    for n in range(5):
        for m in range(3):
            torch.testing.assert_close(
                focal[n, m], sigmoid_focal_loss(logits[n:n + 1],
                                                targets[m:m + 1])[0])
            torch.testing.assert_close(
                dice[n, m], dice_loss(logits[n:n + 1], targets[m:m + 1])[0])


def test_classification_loss_weighted_mean():
    # K=1: query 0 matched to class 0 with logits [2, 0]
    #   nll = ln(1 + e^-2) = 0.126928, weight 1;
    # query 1 is no-object (class 1) with logits [0, 0]: nll = ln 2, weight 0.1
    # weighted mean = (0.126928 + 0.1 ln2) / 1.1 = 0.1784022
    loss = MaskClassificationLoss(num_classes=1, no_object_weight=0.1)
    logits = torch.tensor([[[2.0, 0.0], [0.0, 0.0]]])
    got = loss(logits, torch.tensor([[0, 1]]))
    expected = (math.log(1 + math.exp(-2)) + 0.1 * math.log(2)) / 1.1
    assert abs(expected - 0.1784022) < 1e-6
    assert abs(got.item() - expected) < 1e-6


def test_lean_exact_mask_losses_equal_autograd_values_and_gradients():
    """upsampled_focal_dice (closed-form backward, upsampling recomputed in
    chunks) against plain autograd through interpolate + focal + dice."""
    import torch.nn.functional as F

    from mmmaskformer.models.losses.mask_losses import upsampled_focal_dice
    g = torch.Generator().manual_seed(0)
    logits = (torch.randn(7, 9, 11, generator=g) * 3).double()
    targets = (torch.rand(7, 36, 44, generator=g) > 0.5).double()
    x1 = logits.clone().requires_grad_()
    up = F.interpolate(x1[:, None], size=(36, 44), mode='bilinear',
                       align_corners=False)[:, 0].flatten(1)
    ref_focal = sigmoid_focal_loss(up, targets.flatten(1)).sum()
    ref_dice = dice_loss(up, targets.flatten(1)).sum()
    (20 * ref_focal + 3 * ref_dice).backward()
    x2 = logits.clone().requires_grad_()
    focal, dice = (v.sum() for v in upsampled_focal_dice(
        x2, targets, chunk_elements=3 * 36 * 44))  # chunks of 3 masks
    (20 * focal + 3 * dice).backward()
    assert torch.allclose(focal, ref_focal, rtol=1e-12, atol=1e-12)
    assert torch.allclose(dice, ref_dice, rtol=1e-12, atol=1e-12)
    assert torch.allclose(x2.grad, x1.grad, rtol=1e-9, atol=1e-12)
    # float32, as training runs it: within 1e-6
    x3 = logits.float().requires_grad_()
    f3, d3 = (v.sum() for v in upsampled_focal_dice(x3, targets.float()))
    (20 * f3 + 3 * d3).backward()
    assert (x3.grad.double() - x1.grad).abs().max() < 1e-6
    # soft targets (point-sampled values) follow the general formula too
    soft = torch.rand(7, 36, 44, generator=g).double()
    x4 = logits.clone().requires_grad_()
    x5 = logits.clone().requires_grad_()
    up = F.interpolate(x4[:, None], size=(36, 44), mode='bilinear',
                       align_corners=False)[:, 0].flatten(1)
    (sigmoid_focal_loss(up, soft.flatten(1)).sum() +
     dice_loss(up, soft.flatten(1)).sum()).backward()
    sum(v.sum() for v in upsampled_focal_dice(x5, soft)).backward()
    assert torch.allclose(x5.grad, x4.grad, rtol=1e-9, atol=1e-12)


def test_lean_exact_mask_losses_gather_their_targets():
    """``index`` gathers the targets chunk by chunk (a target may serve
    several predictions, as across decoder layers); bool masks; without
    gradients the same values come out of the forward-only path."""
    from mmmaskformer.models.losses.mask_losses import upsampled_focal_dice
    g = torch.Generator().manual_seed(1)
    logits = (torch.randn(8, 5, 6, generator=g) * 3).double()
    masks = torch.rand(3, 20, 24, generator=g) > 0.5  # bool, 3 targets
    index = torch.tensor([2, 0, 0, 1, 2, 2, 1, 0])
    x1 = logits.clone().requires_grad_()
    f1, d1 = upsampled_focal_dice(x1, masks[index].double())
    (f1 * torch.arange(8.) + d1 * 3).sum().backward()
    chunk = 3 * 20 * 24  # chunks of 3 masks
    x2 = logits.clone().requires_grad_()
    f2, d2 = upsampled_focal_dice(x2, masks, index=index,
                                  chunk_elements=chunk)
    (f2 * torch.arange(8.) + d2 * 3).sum().backward()
    with torch.no_grad():
        f3, d3 = upsampled_focal_dice(logits, masks, index=index,
                                      chunk_elements=chunk)
    assert torch.allclose(f2, f1, rtol=1e-12, atol=1e-14)
    assert torch.allclose(d2, d1, rtol=1e-12, atol=1e-14)
    assert torch.allclose(x2.grad, x1.grad, rtol=1e-10, atol=1e-14)
    assert torch.equal(f3, f2.detach()) and torch.equal(d3, d2.detach())
    # the per-mask weights reached each mask's gradient: mask 0 has weight 0
    # on its focal term, so only its dice gradient is left
    x4 = logits.clone().requires_grad_()
    (upsampled_focal_dice(x4, masks, index=index)[1] * 3).sum().backward()
    assert torch.allclose(x2.grad[0], x4.grad[0], rtol=1e-10, atol=1e-14)
    assert not torch.allclose(x2.grad[1], x4.grad[1])


def test_lean_exact_mask_losses_chunk_by_their_argument(monkeypatch):
    """``chunk_elements`` sets how many masks are upsampled at a time:
    ``max(1, chunk_elements // (H * W))``; the chunks cover every mask once,
    in order, and the values stay those of one chunk."""
    from mmmaskformer.models.losses import upsampled_focal_dice_function
    from mmmaskformer.models.losses.mask_losses import upsampled_focal_dice
    g = torch.Generator().manual_seed(2)
    logits = torch.randn(7, 5, 6, generator=g) * 3
    masks = torch.rand(7, 20, 24, generator=g) > 0.5
    whole = upsampled_focal_dice(logits, masks, chunk_elements=7 * 20 * 24)
    chunk_sizes = []
    real = upsampled_focal_dice_function.chunk_focal_dice

    def counting(upsampled, *args):
        chunk_sizes.append(len(upsampled))
        return real(upsampled, *args)

    monkeypatch.setattr(upsampled_focal_dice_function, 'chunk_focal_dice',
                        counting)
    for chunk_elements, expected in ((1, [1] * 7), (3 * 20 * 24, [3, 3, 1]),
                                     (4 * 20 * 24 - 1, [3, 3, 1]),
                                     (10 * 20 * 24, [7])):
        chunk_sizes.clear()
        focal, dice = upsampled_focal_dice(logits, masks,
                                           chunk_elements=chunk_elements)
        assert chunk_sizes == expected, chunk_elements
        torch.testing.assert_close(focal, whole[0], rtol=1e-6, atol=0)
        torch.testing.assert_close(dice, whole[1], rtol=1e-6, atol=0)
