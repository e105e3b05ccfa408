"""MaskFormerHead: targets, empty ground truth, gradients, inference."""
import pytest
import torch
import torch.nn.functional as F

import mmmaskformer  # noqa: F401
from mmmaskformer.structures import MaskTargets


def test_output_shapes(feats, tiny_head):
    head = tiny_head().eval()
    out = head(feats())
    assert out.cls_logits.shape == (2, 2, 5, 4)  # (L, B, Q, K+1)
    assert out.mask_logits.shape == (2, 2, 5, 8, 8)  # stride 4 of 32x32


def test_semantic_targets_ignore_label(seg_sample, tiny_head):
    head = tiny_head()
    gt = torch.tensor([[0, 0, 255, 2], [2, 255, 255, 2]])
    (t, ) = head.semantic_targets([seg_sample(gt)])
    assert t.labels.tolist() == [0, 2]
    expected = torch.tensor([[[1, 1, 0, 0], [0, 0, 0, 0]],
                             [[0, 0, 0, 1], [1, 0, 0, 1]]], dtype=torch.bool)
    assert torch.equal(t.masks, expected)
    # ignored pixels are negatives in every mask (official), not excluded
    assert not t.masks[:, gt == 255].any()


def test_semantic_targets_reject_out_of_range_labels(seg_sample, tiny_head):
    head = tiny_head(num_classes=3)
    gt = torch.tensor([[0, 7], [3, 255]])
    with pytest.raises(ValueError, match=r'bad_label\.png.*\[3, 7\]'):
        head.semantic_targets([seg_sample(gt, 'data/bad_label.png')])


def test_empty_ground_truth(feats, tiny_head):
    head = tiny_head()
    out = head(feats(batch=1, size=64))
    empty = MaskTargets(torch.zeros(0, dtype=torch.long),
                        torch.zeros(0, 64, 64, dtype=torch.bool))
    losses = head.loss_by_targets(out, [empty])
    assert set(losses) == {
        'loss_ce', 'loss_mask', 'loss_dice', 'loss_ce_0', 'loss_mask_0',
        'loss_dice_0'
    }
    for k, v in losses.items():
        if k.startswith('loss_ce'):
            assert v.item() > 0, k
        else:
            assert v.item() == 0.0, k
    sum(losses.values()).backward()
    # every parameter still takes part (DDP needs it)
    assert all(p.grad is not None for p in head.parameters())


@pytest.mark.parametrize('encoder', [False, True])
def test_every_parameter_receives_a_gradient(encoder, feats, seg_sample, tiny_head):
    torch.manual_seed(0)
    head = tiny_head(encoder=encoder, dropout=0.1).train()
    x = feats()
    gt = torch.zeros(2, 32, 32, dtype=torch.long)
    gt[:, :16] = 1
    gt[1, 20:, 20:] = 2
    gt[0, 0, :5] = 255
    losses = head.loss(x, [seg_sample(gt[0]), seg_sample(gt[1])])
    assert len(losses) == 6
    sum(losses.values()).backward()
    no_grad = [n for n, p in head.named_parameters() if p.grad is None]
    assert not no_grad, no_grad
    nonfinite = [n for n, p in head.named_parameters()
                 if not torch.isfinite(p.grad).all()]
    assert not nonfinite, nonfinite
    # Exactly-zero gradients are limited to decoder layer 0's self-attention
    # block: its input is all zeros, so every value vector is the value bias
    # and the attention weights cannot matter (in_proj_weight); at init
    # that bias and out_proj's bias are 0, so the block outputs 0 whatever
    # out_proj.weight and norm1.weight are. They train once the biases move.
    zero = [n for n, p in head.named_parameters() if p.grad.abs().sum() == 0]
    layer0 = 'transformer_decoder.decoder.layers.0.'
    assert set(zero) <= {
        layer0 + 'self_attn.in_proj_weight',
        layer0 + 'self_attn.out_proj.weight', layer0 + 'norm1.weight'
    }, zero


def test_predict_probabilistic_scores_are_the_sums_over_queries(feats,
                                                                tiny_head):
    """Default inference (paper Sec. 3.4): the last layer's masks upsampled
    to the padded input, ``scores[c] = sum_q p_q(c) sigmoid(m_q)`` with the
    no-object column dropped after the softmax, against a loop in float64;
    an unknown mode is refused."""
    torch.manual_seed(0)
    head = tiny_head().eval()
    metas = [dict(img_shape=(32, 32), pad_shape=(32, 32))] * 2
    x = feats()
    with torch.no_grad():
        scores = head.predict(x, metas, dict(mode='whole'))
        out = head(x)
    assert scores.shape == (2, 3, 32, 32)
    up = F.interpolate(out.mask_logits[-1], size=(32, 32), mode='bilinear',
                       align_corners=False).double()  # (B, Q, 32, 32)
    prob = out.cls_logits[-1].double().softmax(-1)  # (B, Q, K+1)
    expected = torch.zeros(2, 3, 32, 32, dtype=torch.float64)
    for b in range(2):
        for c in range(3):
            for q in range(5):
                expected[b, c] += prob[b, q, c] * up[b, q].sigmoid()
    torch.testing.assert_close(scores.double(), expected, rtol=0, atol=1e-6)
    with pytest.raises(ValueError, match='expected one of'):
        head.predict(x, metas, dict(semantic_inference='bogus'))


def test_fully_ignored_label_map_trains(feats, seg_sample, tiny_head):
    """An image with no annotated pixel (all ignore): no target masks, the
    classification loss still trains every query towards no-object."""
    head = tiny_head().train()
    gt = torch.full((64, 64), 255, dtype=torch.long)
    (t, ) = head.semantic_targets([seg_sample(gt)])
    assert t.labels.numel() == 0 and t.masks.shape == (0, 64, 64)
    losses = head.loss(feats(batch=1, size=64), [seg_sample(gt)])
    assert losses['loss_ce'].item() > 0
    assert losses['loss_mask'].item() == 0 and losses['loss_dice'].item() == 0
    sum(losses.values()).backward()
