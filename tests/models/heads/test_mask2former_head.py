"""Mask2FormerHead: the decoders wired to the point criterion (every
prediction supervised), MaskFormer's semantic interface, and the
Mask2Former post-processing rules through the shared segmentors."""
import pytest
import torch
import torch.nn.functional as F
from mmdet.structures import DetDataSample
from mmengine.registry import init_default_scope
from mmengine.structures import InstanceData, PixelData

import mmmaskformer  # noqa: F401
from mmmaskformer.models.inference import panoptic_inference
from mmmaskformer.models.inference.mask2former import (
    mask2former_instance_inference,
    mask2former_panoptic_inference,
    mask2former_semantic_inference,
)
from mmmaskformer.registry import MODELS
from mmmaskformer.structures import MaskTargets

NUM_LAYERS = 3  # -> 4 predictions


def head_cfg(in_channels, num_classes=3, hidden_dim=32, num_points=64,
             **decoder):
    return dict(
        type='mmmaskformer.Mask2FormerHead', num_classes=num_classes,
        in_channels=in_channels,
        pixel_decoder=dict(type='mmmaskformer.MSDeformAttnPixelDecoder',
                           conv_dim=32, mask_dim=16, num_encoder_layers=1,
                           num_heads=2, dim_feedforward=32),
        transformer_decoder=dict(
            type='mmmaskformer.MultiScaleMaskedTransformerDecoder',
            hidden_dim=hidden_dim, num_queries=5, num_heads=2,
            dim_feedforward=32, num_layers=NUM_LAYERS, **decoder),
        criterion=dict(type='mmmaskformer.Mask2FormerCriterion',
                       num_points=num_points))


def build_head(in_channels, **kwargs):
    init_default_scope('mmmaskformer')
    torch.manual_seed(0)
    return MODELS.build(head_cfg(in_channels, **kwargs))


def test_forward_is_pixel_decoder_then_masked_decoder(feats, in_channels):
    head = build_head(in_channels).eval()
    x = feats()
    out = head(x)
    assert out.cls_logits.shape == (NUM_LAYERS + 1, 2, 5, 4)
    assert out.mask_logits.shape == (NUM_LAYERS + 1, 2, 5, 8, 8)
    pixel_embed, memory = head.pixel_decoder(x)
    ref = head.transformer_decoder(memory, pixel_embed)
    assert torch.equal(out.cls_logits, ref.cls_logits)
    assert torch.equal(out.mask_logits, ref.mask_logits)
    # the decoder got the head's class count and the pixel decoder's widths
    assert head.transformer_decoder.cls_embed.out_features == 4
    assert head.transformer_decoder.mask_embed.layers[-1].out_features == 16


def test_hidden_dim_independent_of_the_pixel_decoder(feats, in_channels):
    head = build_head(in_channels, hidden_dim=16).eval()
    assert all(isinstance(p, torch.nn.Conv2d) and p.in_channels == 32
               and p.out_channels == 16
               for p in head.transformer_decoder.input_proj)
    out = head(feats())
    assert out.cls_logits.shape == (NUM_LAYERS + 1, 2, 5, 4)


def test_decoder_sizes_set_by_the_head_must_not_disagree(in_channels):
    cfg = head_cfg(in_channels)
    cfg['transformer_decoder']['num_classes'] = 7
    init_default_scope('mmmaskformer')
    with pytest.raises(ValueError, match=r'transformer_decoder.num_classes'
                       r'=7 but the head gives 3'):
        MODELS.build(cfg)


def two_targets(size=32):
    m0 = torch.zeros(2, size, size, dtype=torch.bool)
    m0[0, :16] = True
    m0[1, 16:] = True
    m1 = torch.zeros(1, size, size, dtype=torch.bool)
    m1[0, 4:20, 4:20] = True
    return [MaskTargets(torch.tensor([0, 2]), m0),
            MaskTargets(torch.tensor([1]), m1)]


def test_every_prediction_is_supervised_with_the_official_weights(
        feats, in_channels):
    head = build_head(in_channels).train()
    out = head(feats())
    targets = two_targets()
    torch.manual_seed(1)
    losses = head.loss_by_targets(out, targets)
    keys = [f'loss_{t}{s}' for s in [''] + [f'_{i}' for i in
                                            range(NUM_LAYERS)]
            for t in ('ce', 'mask', 'dice')]
    assert list(losses) == keys  # the official order, 3 x 4 terms
    torch.manual_seed(1)  # the same points
    raw = head.criterion.unweighted_losses(out.cls_logits, out.mask_logits,
                                           targets)
    weights = dict(ce=2.0, mask=5.0, dice=5.0)
    for k in keys:
        assert torch.equal(losses[k], raw[k] * weights[k.split('_')[1]]), k
        assert raw[k].item() > 0, k
    # deep supervision: the prediction from the query features alone
    # (suffix _0) trains the learnable query features
    sum(v for k, v in losses.items() if k.endswith('_0')).backward()
    assert head.transformer_decoder.query_feat.weight.grad.abs().sum() > 0
    grad = head.transformer_decoder.ffn_layers[0].linear1.weight.grad
    assert grad is None or not grad.any()  # no layer before prediction 0


def test_every_parameter_receives_a_gradient(feats, in_channels, seg_sample):
    head = build_head(in_channels).train()
    gt = torch.zeros(2, 32, 32, dtype=torch.long)
    gt[:, :16] = 1
    gt[1, 20:, 20:] = 2
    gt[0, 0, :5] = 255
    losses = head.loss(feats(), [seg_sample(gt[0]), seg_sample(gt[1])])
    assert len(losses) == 3 * (NUM_LAYERS + 1)
    sum(losses.values()).backward()
    missing = [n for n, p in head.named_parameters() if p.grad is None]
    assert not missing, missing
    assert all(torch.isfinite(p.grad).all() for p in head.parameters())


def test_semantic_predict_is_the_official_semantic_only_order(
        feats, in_channels):
    """mmseg's EncoderDecoder: scores combined at the padded size, then the
    score maps cropped and resized (official SEM_SEG_POSTPROCESSING off)."""
    head = build_head(in_channels).eval()
    x = feats()
    metas = [dict(img_shape=(32, 32), pad_shape=(32, 32))] * 2
    with torch.no_grad():
        scores = head.predict(x, metas)
        out = head(x)
    assert scores.shape == (2, 3, 32, 32)
    up = F.interpolate(out.mask_logits[-1], size=(32, 32), mode='bilinear',
                       align_corners=False)
    for b in range(2):
        # what mmseg's postprocess_result then does: crop 28x30, resize
        ours = F.interpolate(scores[b:b + 1, :, :28, :30], size=(40, 45),
                             mode='bilinear', align_corners=False)[0]
        ref = mask2former_semantic_inference(out.cls_logits[-1][b], up[b],
                                             (28, 30), (40, 45),
                                             resize_logits_first=False)
        assert torch.allclose(ours, ref, atol=1e-6)
        other = mask2former_semantic_inference(out.cls_logits[-1][b], up[b],
                                               (28, 30), (40, 45),
                                               resize_logits_first=True)
        assert not torch.allclose(ours, other, atol=1e-6)


def panoptic_model(in_channels, things=dict(num_things=2), **test_cfg):
    init_default_scope('mmmaskformer')
    torch.manual_seed(0)
    backbone = dict(type='mmdet.ResNet', depth=18, stem_channels=8,
                    base_channels=8, out_indices=(0, 1, 2, 3),
                    norm_cfg=dict(type='BN'), norm_eval=False)
    channels = [8, 16, 32, 64]
    return MODELS.build(dict(
        type='mmmaskformer.MaskFormerPanoptic', **things,
        backbone=backbone,
        panoptic_head=head_cfg(channels, num_classes=4),
        data_preprocessor=dict(type='mmdet.DetDataPreprocessor'),
        test_cfg=dict(object_mask_threshold=0.0, overlap_threshold=0.0,
                      **test_cfg))).eval()


def det_sample(img_shape, ori_shape):
    return DetDataSample(metainfo=dict(img_shape=img_shape,
                                       ori_shape=ori_shape,
                                       batch_input_shape=(64, 64)))


def test_panoptic_segmentor_reads_interleaved_thing_classes(in_channels):
    """thing_classes (3, 1): things 1 and 3 among stuff 0 and 2; the
    panoptic and instance outputs follow them, not the first two labels."""
    model = panoptic_model(in_channels, dict(thing_classes=(3, 1)),
                           instance_on=True, max_per_image=20)
    assert model.thing_classes == (1, 3) and model.num_things == 2
    torch.manual_seed(3)
    x = torch.randn(1, 3, 64, 64)
    with torch.no_grad():
        model.panoptic_head.transformer_decoder.cls_embed.weight.mul_(30)
        out = model.panoptic_head(model.extract_feat(x))
        (pred, ) = model.predict(x, [det_sample((64, 64), (64, 64))])
    logits = F.interpolate(out.mask_logits[-1], size=(64, 64),
                           mode='bilinear', align_corners=False)[0]
    cls = out.cls_logits[-1][0]
    ref = mask2former_panoptic_inference(cls, logits, (1, 3), 0.0, 0.0)
    assert pred.pred_panoptic_seg.segments_info == ref.segments_info
    assert {(s['category_id'], s['isthing'])
            for s in ref.segments_info} <= {(0, False), (1, True),
                                             (2, False), (3, True)}
    inst = mask2former_instance_inference(cls, logits, 20, (1, 3))
    assert torch.equal(pred.pred_instances.labels, inst.labels)
    assert len(inst.labels) and set(inst.labels.tolist()) <= {1, 3}
    with pytest.raises(ValueError, match=r'thing_classes \[4\]'):
        panoptic_model(in_channels, dict(thing_classes=(1, 4)))


def test_panoptic_segmentor_uses_the_mask2former_rules(in_channels):
    model = panoptic_model(in_channels, semantic_on=True, instance_on=True,
                           max_per_image=7)
    torch.manual_seed(3)
    x = torch.randn(2, 3, 64, 64)
    samples = [det_sample((60, 64), (30, 32)), det_sample((64, 50),
                                                          (64, 50))]
    with torch.no_grad():
        # raise the class confidences so that queries survive
        model.panoptic_head.transformer_decoder.cls_embed.weight.mul_(30)
        out = model.panoptic_head(model.extract_feat(x))
        preds = model.predict(x, samples)
    up = F.interpolate(out.mask_logits[-1], size=(64, 64), mode='bilinear',
                       align_corners=False)
    differs = False
    for b, pred in enumerate(preds):
        logits = up[b, :, :pred.img_shape[0], :pred.img_shape[1]]
        logits = F.interpolate(logits[None], size=pred.ori_shape,
                               mode='bilinear', align_corners=False)[0]
        cls = out.cls_logits[-1][b]
        ref = mask2former_panoptic_inference(cls, logits, range(2), 0.0,
                                             0.0)
        assert torch.equal(pred.pred_panoptic_seg.panoptic_seg[0],
                           ref.panoptic_seg)
        assert pred.pred_panoptic_seg.segments_info == ref.segments_info
        assert ref.segments_info  # something to compare
        maskformer = panoptic_inference(cls, logits, range(2), 0.0, 0.0)
        differs |= not torch.equal(maskformer.panoptic_seg, ref.panoptic_seg)
        # semantic: logits resized first (official panoptic configs)
        sem = mask2former_semantic_inference(
            cls, up[b], pred.img_shape, pred.ori_shape,
            resize_logits_first=True).argmax(0)
        assert torch.equal(pred.pred_sem_seg.sem_seg[0], sem)
        inst = mask2former_instance_inference(cls, logits, 7, range(2))
        assert torch.equal(pred.pred_instances.labels, inst.labels)
        assert torch.equal(pred.pred_instances.scores, inst.scores)
        assert torch.equal(pred.pred_instances.masks, inst.masks)
        assert set(inst.labels.tolist()) <= {0, 1}
    # the Mask2Former rule (segment = won & sigmoid >= 0.5) is not
    # MaskFormer's on these logits, so the test tells them apart
    assert differs


def test_instance_only_model_has_no_thing_filter(in_channels):
    model = panoptic_model(in_channels, panoptic_on=False, instance_on=True)
    x = torch.randn(1, 3, 64, 64)
    with torch.no_grad():
        out = model.panoptic_head(model.extract_feat(x))
        (pred, ) = model.predict(x, [det_sample((64, 64), (64, 64))])
    assert 'pred_panoptic_seg' not in pred
    ref = mask2former_instance_inference(
        out.cls_logits[-1][0],
        F.interpolate(out.mask_logits[-1], size=(64, 64), mode='bilinear',
                      align_corners=False)[0], 100, None)
    assert len(pred.pred_instances) == len(ref.labels) == 20  # 5 Q x 4 K
    assert torch.equal(pred.pred_instances.labels, ref.labels)
    assert set(ref.labels.tolist()) == {0, 1, 2, 3}


def test_thing_filter_is_membership_not_an_index_range(feats, in_channels):
    head = build_head(in_channels, num_classes=4).eval()
    cls = torch.randn(5, 5)
    masks = torch.randn(5, 8, 8)
    inst = head.instance_result(cls, masks, {1, 3},
                                dict(max_per_image=20))
    assert set(inst.labels.tolist()) == {1, 3}
    cls = torch.full((5, 5), -10.0)
    cls[:, 3] = 10.0  # every query: class 3, a stuff class, not the first
    masks = torch.full((5, 8, 8), -5.0)
    masks[0, :4] = 5.0
    masks[1, 4:] = 5.0
    result = head.panoptic_result(cls, masks, {0, 1},
                                  dict(object_mask_threshold=0.8,
                                       overlap_threshold=0.8))
    # the two class-3 queries merge: one stuff segment
    assert result.segments_info == [dict(id=1, isthing=False,
                                         category_id=3)]
    assert (result.panoptic_seg == 1).all()
    fused = head.panoptic_result(cls, masks, {0, 1},
                                 dict(object_mask_threshold=0.8,
                                      overlap_threshold=0.8,
                                      label_ids_to_fuse=[]))
    assert [s['id'] for s in fused.segments_info] == [1, 2]


def test_instance_targets_without_a_semantic_map(in_channels):
    """mmdet's CocoDataset gives no gt_sem_seg: the targets are the things,
    at the padded mask size."""
    from mmdet.structures.mask import BitmapMasks

    from mmmaskformer.models.segmentors import panoptic_targets
    s = DetDataSample(metainfo=dict(img_path='a.png'))
    masks = torch.zeros(2, 6, 9, dtype=torch.uint8).numpy()
    masks[0, :3] = 1
    masks[1, 3:, :4] = 1
    s.gt_instances = InstanceData(labels=torch.tensor([2, 0]),
                                  masks=BitmapMasks(masks, 6, 9))
    (t, ) = panoptic_targets([s], things=3, num_classes=3)
    assert t.labels.tolist() == [2, 0]
    assert torch.equal(t.masks, torch.from_numpy(masks).bool())
    s.gt_instances = InstanceData(
        labels=torch.zeros(0, dtype=torch.long),
        masks=BitmapMasks(masks[:0], 6, 9))
    (t, ) = panoptic_targets([s], things=3, num_classes=3)
    assert t.labels.numel() == 0 and t.masks.shape == (0, 6, 9)
    s.gt_sem_seg = PixelData(sem_seg=torch.full((1, 6, 9), 255))
    s.gt_instances = InstanceData(labels=torch.tensor([5]),
                                  masks=BitmapMasks(masks[:1], 6, 9))
    with pytest.raises(ValueError, match=r'a.png: thing labels \[5\]'):
        panoptic_targets([s], things=3, num_classes=3)
