"""PerPixelBaseline, PerPixelBaseline+ and MaskFormer-fixed."""
import pytest
import torch
import torch.nn.functional as F

import mmmaskformer  # noqa: F401
from mmmaskformer.models import (
    FixedMatchingAssigner,
    PerPixelBaselineHead,
    PerPixelBaselinePlusHead,
)
from mmmaskformer.structures import FlatMatches, MaskTargets

PIXEL_DECODER = dict(type='FPNPixelDecoder', conv_dim=32, mask_dim=32)


def gts(size=32):
    gt = torch.zeros(2, size, size, dtype=torch.long)
    gt[:, :, size // 2:] = 1
    gt[1, :4] = 2
    gt[0, 0, :3] = 255
    return gt


def test_per_pixel_baseline_loss_is_pixel_ce_on_x4_logits(feats, in_channels, seg_sample):
    torch.manual_seed(0)
    head = PerPixelBaselineHead(3, in_channels, PIXEL_DECODER).train()
    x, gt = feats(), gts()
    losses = head.loss(x, [seg_sample(g) for g in gt])
    assert list(losses) == ['loss_sem_seg']
    logits = head(x)
    assert logits.shape == (2, 3, 8, 8)  # stride 4
    up = F.interpolate(logits, scale_factor=4, mode='bilinear',
                       align_corners=False)
    # brute force: mean over non-ignored pixels of -log softmax[gt]
    logp = up.log_softmax(1).permute(0, 2, 3, 1)[gt != 255]
    ref = -logp.gather(1, gt[gt != 255][:, None]).mean()
    torch.testing.assert_close(losses['loss_sem_seg'], ref)
    losses['loss_sem_seg'].backward()
    assert all(p.grad is not None for p in head.parameters())
    metas = [dict(img_shape=(32, 32), pad_shape=(32, 32))] * 2
    assert head.predict(x, metas).shape == (2, 3, 32, 32)


def test_per_pixel_baseline_plus_deep_supervision(feats, in_channels, seg_sample):
    torch.manual_seed(0)
    head = PerPixelBaselinePlusHead(
        3, in_channels, PIXEL_DECODER,
        transformer_decoder=dict(type='DETRTransformerDecoder', hidden_dim=32,
                                 num_heads=2, dim_feedforward=32,
                                 num_layers=3)).train()
    assert head.transformer_decoder.num_queries == 3  # N = K
    losses = head.loss(feats(), [seg_sample(g) for g in gts()])
    assert list(losses) == ['loss_sem_seg_0', 'loss_sem_seg_1',
                            'loss_sem_seg']
    assert all(v.item() > 0 for v in losses.values())
    sum(losses.values()).backward()
    assert all(p.grad is not None for p in head.parameters())
    head.eval()
    metas = [dict(img_shape=(32, 32), pad_shape=(32, 32))] * 2
    with torch.no_grad():
        assert head.predict(feats(), metas).shape == (2, 3, 32, 32)


def test_fixed_matching_pairs_query_with_its_class():
    assigner = FixedMatchingAssigner()
    targets = [
        MaskTargets(torch.tensor([2, 0]), torch.zeros(2, 8, 8, dtype=bool)),
        MaskTargets(torch.tensor([1]), torch.zeros(1, 8, 8, dtype=bool)),
    ]
    matches = assigner.assign(torch.zeros(2, 2, 3, 4),
                              torch.zeros(2, 2, 3, 2, 2), targets)
    assert isinstance(matches, FlatMatches)
    # every layer; per image queries ascending; image 1's target 0 is
    # target 2 of the batch
    assert [index.tolist() for index in matches] == [
        [0, 0, 0, 1, 1, 1], [0, 0, 1, 0, 0, 1], [0, 2, 1, 0, 2, 1],
        [1, 0, 2, 1, 0, 2]]
    assert all(index.dtype == torch.int64 for index in matches)
    with pytest.raises(ValueError, match='num_queries == num_classes'):
        assigner.assign(torch.zeros(1, 2, 5, 4), torch.zeros(1, 2, 5, 2, 2),
                        targets)
    dup = [MaskTargets(torch.tensor([1, 1]), torch.zeros(2, 8, 8, dtype=bool))]
    with pytest.raises(ValueError, match='one segment per class'):
        assigner.assign(torch.zeros(1, 1, 3, 4), torch.zeros(1, 1, 3, 2, 2),
                        dup)


def brute_force_focal(logits, target):
    """Mean over pixels of alpha_t (1 - p_t)^2 BCE, alpha 0.25, in float64."""
    x, t = logits.double(), target.double()
    p = x.sigmoid()
    ce = -(t * torch.log(p) + (1 - t) * torch.log(1 - p))
    p_t = p * t + (1 - p) * (1 - t)
    alpha_t = 0.25 * t + 0.75 * (1 - t)
    return (alpha_t * (1 - p_t)**2 * ce).mean()


def brute_force_dice(logits, target):
    p, t = logits.double().sigmoid(), target.double()
    return 1 - (2 * (p * t).sum() + 1) / (p.sum() + t.sum() + 1)


def test_maskformer_fixed_trains_through_the_criterion(feats, seg_sample,
                                                       tiny_head):
    """MaskFormer-fixed through the head's loss: query c is trained on
    class c. Every term equals a brute-force computation from the head's
    outputs: CE towards class c on query c where c is present (no object,
    weight 0.1, elsewhere), focal x20 and dice of query c's upsampled mask
    against class c's mask, over the 5 masks of the batch."""
    torch.manual_seed(0)
    head = tiny_head(num_classes=5, num_queries=5)
    head.criterion.assigner = FixedMatchingAssigner()
    gt = gts()
    gt[gt == 2] = 4  # image 0: classes 0, 1 (+ ignore); image 1: 0, 1, 4
    x = feats()
    losses = head.loss(x, [seg_sample(g) for g in gt])
    with torch.no_grad():
        out = head(x)  # no dropout: the outputs the loss saw
    present = [[0, 1], [0, 1, 4]]
    num_masks = 5
    expected = {}
    for layer, suffix in ((1, ''), (0, '_0')):  # the last layer first
        nll, weights, focal, dice = [], [], 0.0, 0.0
        for b in range(2):
            log_prob = out.cls_logits[layer, b].double().log_softmax(-1)
            for q in range(5):
                target = q if q in present[b] else 5  # 5 = no object
                nll.append(-log_prob[q, target])
                weights.append(1.0 if target < 5 else 0.1)
            up = F.interpolate(out.mask_logits[layer, b][:, None],
                               size=(32, 32), mode='bilinear',
                               align_corners=False)[:, 0]
            for c in present[b]:
                focal += brute_force_focal(up[c], gt[b] == c)
                dice += brute_force_dice(up[c], gt[b] == c)
        weights = torch.tensor(weights, dtype=torch.float64)
        expected['loss_ce' + suffix] = (
            weights * torch.stack(nll)).sum() / weights.sum()
        expected['loss_mask' + suffix] = 20 * focal / num_masks
        expected['loss_dice' + suffix] = dice / num_masks
    assert list(losses) == ['loss_ce', 'loss_mask', 'loss_dice', 'loss_ce_0',
                            'loss_mask_0', 'loss_dice_0']
    for key, value in expected.items():
        torch.testing.assert_close(losses[key].double(), value, rtol=1e-5,
                                   atol=1e-7, msg=key)
    sum(losses.values()).backward()
    assert head.cls_embed.weight.grad.abs().sum() > 0
    assert head.mask_embed.layers[-1].weight.grad.abs().sum() > 0
