"""MaskFormerHead: targets, empty ground truth, gradients, inference."""
import pytest
import torch
from mmengine.structures import PixelData
from mmseg.structures import SegDataSample

import mmmaskformer  # noqa: F401
from mmmaskformer.models import MaskFormerHead
from mmmaskformer.structures import MaskTargets

IN_CHANNELS = [8, 16, 32, 64]


def tiny_head(num_classes=3, encoder=False, dropout=0.0):
    pixel_decoder = dict(type='TransformerEncoderPixelDecoder'
                         if encoder else 'FPNPixelDecoder', conv_dim=32,
                         mask_dim=32)
    if encoder:
        pixel_decoder.update(num_encoder_layers=1, num_heads=2,
                             dim_feedforward=32, dropout=dropout)
    return MaskFormerHead(
        num_classes=num_classes, in_channels=IN_CHANNELS,
        pixel_decoder=pixel_decoder,
        transformer_decoder=dict(type='DETRTransformerDecoder', hidden_dim=32,
                                 num_queries=5, num_heads=2,
                                 dim_feedforward=32, dropout=dropout,
                                 num_layers=2))


def feats(batch=2, size=32, seed=0):
    g = torch.Generator().manual_seed(seed)
    return [torch.randn(batch, c, size // s, size // s, generator=g)
            for c, s in zip(IN_CHANNELS, (4, 8, 16, 32))]


def seg_sample(gt: torch.Tensor, path='img_0.png'):
    s = SegDataSample(metainfo=dict(seg_map_path=path, img_shape=gt.shape,
                                    ori_shape=gt.shape, pad_shape=gt.shape))
    s.gt_sem_seg = PixelData(data=gt[None])
    return s


def test_output_shapes():
    head = tiny_head().eval()
    out = head(feats())
    assert out.cls_logits.shape == (2, 2, 5, 4)  # (L, B, Q, K+1)
    assert out.mask_logits.shape == (2, 2, 5, 8, 8)  # stride 4 of 32x32


def test_semantic_targets_ignore_label():
    head = tiny_head()
    gt = torch.tensor([[0, 0, 255, 2], [2, 255, 255, 2]])
    (t, ) = head.semantic_targets([seg_sample(gt)])
    assert t.labels.tolist() == [0, 2]
    expected = torch.tensor([[[1, 1, 0, 0], [0, 0, 0, 0]],
                             [[0, 0, 0, 1], [1, 0, 0, 1]]], dtype=torch.bool)
    assert torch.equal(t.masks, expected)
    # ignored pixels are negatives in every mask (official), not excluded
    assert not t.masks[:, gt == 255].any()


def test_semantic_targets_reject_out_of_range_labels():
    head = tiny_head(num_classes=3)
    gt = torch.tensor([[0, 7], [3, 255]])
    with pytest.raises(ValueError, match=r'bad_label\.png.*\[3, 7\]'):
        head.semantic_targets([seg_sample(gt, 'data/bad_label.png')])


def test_empty_ground_truth():
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
def test_every_parameter_receives_a_gradient(encoder):
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


def test_predict_probabilistic_scores_sum_below_queries():
    head = tiny_head().eval()
    metas = [dict(img_shape=(32, 32), pad_shape=(32, 32))] * 2
    with torch.no_grad():
        scores = head.predict(feats(), metas, dict(mode='whole'))
    assert scores.shape == (2, 3, 32, 32)
    # each score is a sum over Q queries of p(class) * sigmoid(mask) in [0,1]
    assert (scores >= 0).all() and (scores.sum(1) <= 5).all()
    with pytest.raises(ValueError, match='expected one of'):
        head.predict(feats(), metas, dict(semantic_inference='bogus'))


def test_fully_ignored_label_map_trains():
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
