"""PerPixelBaseline, PerPixelBaseline+ and MaskFormer-fixed."""
import pytest
import torch
import torch.nn.functional as F

import mmmaskformer  # noqa: F401
from mmmaskformer.models import (FixedMatchingAssigner, PerPixelBaselineHead,
                                 PerPixelBaselinePlusHead)
from mmmaskformer.structures import MaskTargets
from test_head import IN_CHANNELS, feats, seg_sample, tiny_head

PIXEL_DECODER = dict(type='FPNPixelDecoder', conv_dim=32, mask_dim=32)


def gts(size=32):
    gt = torch.zeros(2, size, size, dtype=torch.long)
    gt[:, :, size // 2:] = 1
    gt[1, :4] = 2
    gt[0, 0, :3] = 255
    return gt


def test_per_pixel_baseline_loss_is_pixel_ce_on_x4_logits():
    torch.manual_seed(0)
    head = PerPixelBaselineHead(3, IN_CHANNELS, PIXEL_DECODER).train()
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


def test_per_pixel_baseline_plus_deep_supervision():
    torch.manual_seed(0)
    head = PerPixelBaselinePlusHead(
        3, IN_CHANNELS, PIXEL_DECODER,
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
    assert len(matches) == 2  # every layer
    for layer in matches:
        (src0, tgt0), (src1, tgt1) = layer
        assert src0.tolist() == [0, 2] and tgt0.tolist() == [1, 0]
        assert src1.tolist() == [1] and tgt1.tolist() == [0]
    with pytest.raises(ValueError, match='num_queries == num_classes'):
        assigner.assign(torch.zeros(1, 2, 5, 4), torch.zeros(1, 2, 5, 2, 2),
                        targets)
    dup = [MaskTargets(torch.tensor([1, 1]), torch.zeros(2, 8, 8, dtype=bool))]
    with pytest.raises(ValueError, match='one segment per class'):
        assigner.assign(torch.zeros(1, 1, 3, 4), torch.zeros(1, 1, 3, 2, 2),
                        dup)


def test_maskformer_fixed_trains_through_the_criterion():
    head = tiny_head(num_classes=5)
    head.transformer_decoder.query_embed = torch.nn.Embedding(5, 32)
    head.transformer_decoder.num_queries = 5
    head.criterion.assigner = FixedMatchingAssigner()
    gt = gts()
    gt[gt == 2] = 4
    losses = head.loss(feats(), [seg_sample(g) for g in gt])
    assert losses['loss_mask'].item() > 0
    sum(losses.values()).backward()
