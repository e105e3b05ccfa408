"""A Mask2Former trained with mmdet (panoptic, ``panoptic_head.``) or mmseg
(semantic, ``decode_head.``) moves onto our code through
``mmmaskformer/converters/mmdet_mask2former.py`` (and
``tools/convert_mmseg_checkpoint.py``) and predicts the same: the class and
mask logits of every decoder layer within 1e-5, the same panoptic map, the
same instances, the same semantic scores; the key map round-trips
bit-identically both ways.

The tiny models are built here from mmdet's and mmseg's own R50 configs,
shrunk to our tiny configs' sizes, where both compute the same function:
mmdet's ``feat_channels`` equals its decoder's ``embed_dims`` (mmdet sizes
the queries and heads by the former, spec §9.2 #2), and the thing classes
come first (mmdet's panoptic rule ``label < num_things_classes``).
"""
import os.path as osp
import sys

import pytest
import torch
from mmengine.config import Config
from mmengine.registry import init_default_scope

import mmmaskformer  # noqa: F401
from mmmaskformer.converters import mmdet_mask2former_to_ours, ours_to_mmdet_mask2former
from mmmaskformer.errors import CheckpointError

REPO = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
sys.path.insert(0, osp.join(REPO, 'tools'))
from convert_mmseg_checkpoint import main as convert_main  # noqa: E402

SEMANTIC = osp.join(REPO, 'configs', 'mask2former_r18-tiny_synthetic-64x64.py')
PANOPTIC = osp.join(REPO, 'configs',
                    'mask2former_r18-tiny_synthetic-panoptic-64x64.py')
HEAD_KEY = dict(panoptic='panoptic_head', semantic='decode_head')
# thresholds both sides read, low enough that a random model keeps segments
# (mmdet: object_mask_thr / iou_thr; ours: object_mask_threshold /
# overlap_threshold)
OBJECT_THR, OVERLAP_THR = 0.1, 0.2


def _tiny_layers(layer_cfg, attn_names):
    for name in attn_names:
        layer_cfg[name].update(embed_dims=64, num_heads=4)
    layer_cfg.ffn_cfg.update(embed_dims=64, feedforward_channels=256)


def build_theirs(kind):
    """mmdet's (panoptic) or mmseg's (semantic) Mask2Former R50 config at
    our tiny configs' sizes: R18 of width 16, pixel decoder and decoder 64
    wide (4 heads, FFN 256), 2 deformable encoder layers, 3 decoder layers,
    20 queries, 3 things + 3 stuff classes (panoptic) or 6 classes; random
    weights (their init, then noise, so that no parameter is a constant:
    the deformable offsets and weights start at zero; the class and mask
    heads scaled up, so that a random model's panoptic map has segments)."""
    if kind == 'panoptic':
        import mmdet
        from mmdet.registry import MODELS
        path = osp.join(osp.dirname(mmdet.__file__), '.mim', 'configs',
                        'mask2former',
                        'mask2former_r50_8xb2-lsj-50e_coco-panoptic.py')
        scope = 'mmdet'
    else:
        import mmseg
        from mmseg.registry import MODELS
        path = osp.join(osp.dirname(mmseg.__file__), '.mim', 'configs',
                        'mask2former',
                        'mask2former_r50_8xb2-160k_ade20k-512x512.py')
        scope = 'mmseg'
    model = Config.fromfile(path).model
    model.backbone.update(depth=18, stem_channels=16, base_channels=16,
                          init_cfg=None,
                          norm_cfg=dict(type='BN', requires_grad=True),
                          norm_eval=False)
    head = model[HEAD_KEY[kind]]
    head.update(in_channels=[16, 32, 64, 128], feat_channels=64,
                out_channels=64, num_queries=20)
    head.pixel_decoder.encoder.num_layers = 2
    _tiny_layers(head.pixel_decoder.encoder.layer_cfg, ['self_attn_cfg'])
    head.pixel_decoder.positional_encoding.num_feats = 32
    head.positional_encoding.num_feats = 32
    head.transformer_decoder.num_layers = 3
    _tiny_layers(head.transformer_decoder.layer_cfg,
                 ['self_attn_cfg', 'cross_attn_cfg'])
    head.loss_cls.class_weight = [1.0] * 6 + [0.1]
    if kind == 'panoptic':
        head.update(num_things_classes=3, num_stuff_classes=3)
        model.panoptic_fusion_head.update(num_things_classes=3,
                                          num_stuff_classes=3)
        model.data_preprocessor.batch_augments = None
        model.test_cfg.update(object_mask_thr=OBJECT_THR, iou_thr=OVERLAP_THR)
    else:
        head.num_classes = 6
    init_default_scope(scope)
    torch.manual_seed(0)
    theirs = MODELS.build(model)
    theirs.init_weights()
    g = torch.Generator().manual_seed(1)
    with torch.no_grad():
        for p in theirs.parameters():
            p.add_(torch.randn(p.shape, generator=g) * 0.05)
        head = getattr(theirs, HEAD_KEY[kind])
        head.cls_embed.weight.mul_(3.0)
        head.mask_embed[4].weight.mul_(3.0)
    return theirs.eval()


def build_ours(kind):
    from mmmaskformer.registry import MODELS
    cfg = Config.fromfile(PANOPTIC if kind == 'panoptic' else SEMANTIC)
    if kind == 'panoptic':
        cfg.model.test_cfg.update(object_mask_threshold=OBJECT_THR,
                                  overlap_threshold=OVERLAP_THR,
                                  instance_on=True)
    init_default_scope('mmmaskformer')
    return MODELS.build(cfg.model).eval()


def _samples(kind, n, size):
    if kind == 'panoptic':
        from mmdet.structures import DetDataSample as Sample
    else:
        from mmseg.structures import SegDataSample as Sample
    return [Sample(metainfo=dict(img_shape=(size, size),
                                 ori_shape=(size, size),
                                 pad_shape=(size, size),
                                 batch_input_shape=(size, size)))
            for _ in range(n)]


def _converted_pair(kind):
    theirs = build_theirs(kind)
    ours = build_ours(kind)
    result = ours.load_state_dict(mmdet_mask2former_to_ours(
        theirs.state_dict()), strict=True)
    assert not result.missing_keys and not result.unexpected_keys
    return theirs, ours


@pytest.mark.parametrize('kind', ['panoptic', 'semantic'])
def test_key_map_covers_every_key_and_round_trips(kind):
    theirs = build_theirs(kind)
    ours = build_ours(kind)
    theirs_sd, ours_sd = theirs.state_dict(), ours.state_dict()
    prefix = HEAD_KEY[kind] + '.'
    # every key maps, onto exactly our model's keys and shapes
    converted = mmdet_mask2former_to_ours(theirs_sd)
    assert sorted(converted) == sorted(ours_sd)
    assert all(converted[k].shape == ours_sd[k].shape for k in ours_sd)
    assert len([k for k in converted if k.startswith(prefix)]) > 100
    # ours -> theirs is theirs' key set; both round trips are bit-identical
    to_theirs = ours_to_mmdet_mask2former(ours_sd)
    assert sorted(to_theirs) == sorted(theirs_sd)
    back = mmdet_mask2former_to_ours(to_theirs)
    assert list(back) == list(ours_sd)
    assert all(back[k] is ours_sd[k] for k in ours_sd)  # values untouched
    again = ours_to_mmdet_mask2former(converted)
    assert list(again) == list(theirs_sd)
    assert all(torch.equal(again[k], theirs_sd[k]) for k in theirs_sd)
    # a few entries of the table, spelled out
    assert torch.equal(
        converted[prefix + 'pixel_decoder.level_embed'],
        theirs_sd[prefix + 'pixel_decoder.level_encoding.weight'])
    assert torch.equal(
        converted[prefix + 'transformer_decoder.mask_embed.layers.2.weight'],
        theirs_sd[prefix + 'mask_embed.4.weight'])
    assert torch.equal(
        converted[prefix + 'transformer_decoder.ffn_layers.1.norm.bias'],
        theirs_sd[prefix + 'transformer_decoder.layers.1.norms.2.bias'])


def test_unmapped_keys_are_named():
    good = {'panoptic_head.query_feat.weight': torch.zeros(1),
            'backbone.conv1.weight': torch.zeros(1)}
    assert list(mmdet_mask2former_to_ours(good)) == [
        'panoptic_head.transformer_decoder.query_feat.weight',
        'backbone.conv1.weight']
    bad = dict(good, **{
        # mmdet's MaskFormer pixel decoder, an activation, a stray module
        'panoptic_head.pixel_decoder.last_feat_conv.conv.weight': 0,
        'panoptic_head.mask_embed.1.weight': 0,
        'neck.conv.weight': 0})
    with pytest.raises(KeyError) as e:
        mmdet_mask2former_to_ours(bad)
    message = str(e.value)
    assert '3 keys with no mapping' in message
    for key in ('last_feat_conv', 'mask_embed.1.weight', 'neck.conv.weight'):
        assert key in message
    with pytest.raises(KeyError, match='ours.weird'):
        ours_to_mmdet_mask2former({'decode_head.ours.weird': 0})
    # our spelling is not mmdet's: it does not pass as theirs
    with pytest.raises(KeyError, match='1 keys'):
        mmdet_mask2former_to_ours({
            'decode_head.query_feat.weight': 0,
            'decode_head.transformer_decoder.query_feat.weight': 0})


def _stack(layers):
    return torch.stack(list(layers))


def test_converted_panoptic_model_predicts_identically():
    theirs, ours = _converted_pair('panoptic')
    x = torch.randn(2, 3, 64, 64, generator=torch.Generator().manual_seed(2))
    with torch.no_grad():
        cls_t, masks_t = theirs.panoptic_head(theirs.extract_feat(x),
                                              _samples('panoptic', 2, 64))
        out = ours.panoptic_head(ours.extract_feat(x))
    # every prediction: the query features' and the 3 layers' (4, B, Q, .)
    assert out.cls_logits.shape == (4, 2, 20, 7)
    assert out.mask_logits.shape == (4, 2, 20, 16, 16)
    assert (out.cls_logits - _stack(cls_t)).abs().max() < 1e-5
    assert (out.mask_logits - _stack(masks_t)).abs().max() < 1e-5
    # not trivially equal: random weights, real signal, masked attention
    # that masks part of the memory
    assert _stack(cls_t).std() > 1e-2 and _stack(masks_t).std() > 1e-1
    frac = (_stack(masks_t)[:-1] < 0).float().mean()
    assert 0.05 < frac < 0.95

    with torch.no_grad():
        pred_t = theirs.predict(x, _samples('panoptic', 2, 64))
        pred_o = ours.predict(x, _samples('panoptic', 2, 64))
    ids = set()
    for t, o in zip(pred_t, pred_o):
        pan_t = t.pred_panoptic_seg.sem_seg.long()
        pan_o = o.pred_panoptic_seg.sem_seg.long()
        assert torch.equal(pan_t, pan_o)
        ids |= set(pan_t.unique().tolist())
        # instances: the same (label, score, mask) set (mmdet's top-k is
        # unsorted)
        it, io = t.pred_instances, o.pred_instances
        assert len(it) == len(io) > 0
        order_t = torch.argsort(it.scores, descending=True)
        order_o = torch.argsort(io.scores, descending=True)
        assert (it.scores[order_t] - io.scores[order_o]).abs().max() < 1e-5
        assert torch.equal(it.labels[order_t], io.labels[order_o])
        assert torch.equal(it.masks[order_t].bool(), io.masks[order_o].bool())
    # the maps hold thing segments (id >= 1000), stuff (3..5) and void (6)
    assert 6 in ids and any(i >= 1000 for i in ids) and ids & {3, 4, 5}, ids


def test_converted_semantic_model_predicts_identically():
    theirs, ours = _converted_pair('semantic')
    x = torch.randn(2, 3, 64, 64, generator=torch.Generator().manual_seed(3))
    samples = _samples('semantic', 2, 64)
    metas = [s.metainfo for s in samples]
    with torch.no_grad():
        cls_t, masks_t = theirs.decode_head(theirs.extract_feat(x), samples)
        out = ours.decode_head(ours.extract_feat(x))
        seg_t = theirs.encode_decode(x, metas)
        seg_o = ours.encode_decode(x, metas)
    assert out.cls_logits.shape == (4, 2, 20, 7)
    assert (out.cls_logits - _stack(cls_t)).abs().max() < 1e-5
    assert (out.mask_logits - _stack(masks_t)).abs().max() < 1e-5
    assert _stack(cls_t).std() > 1e-2 and _stack(masks_t).std() > 1e-1
    assert seg_t.shape == seg_o.shape == (2, 6, 64, 64)
    # score maps (sums over the queries, up to ~17 here) within 1e-5 of
    # their size: float32 rounding of the two orders of summation, which
    # reach ~25 ulp at 2 threads
    assert (seg_t - seg_o).abs().max() < 1e-5 * seg_t.abs().max()
    assert seg_t.std() > 1e-3


@pytest.mark.slow
def test_convert_tool_converts_an_mmdet_mask2former_checkpoint(tmp_path,
                                                                run_tool):
    theirs = build_theirs('panoptic')
    src = tmp_path / 'mask2former_mmdet.pth'
    torch.save(dict(state_dict=theirs.state_dict(),
                    meta=dict(mmdet_version='3.3.0')), src)
    dst = tmp_path / 'ours.pth'
    # the documented command, as a fresh process
    out = run_tool(['tools/convert_mmseg_checkpoint.py', str(src), str(dst),
                    '--config', PANOPTIC])
    assert str(dst) in out and f'checked against {PANOPTIC}' in out
    from mmmaskformer.utils.checkpoint import safe_load
    converted = safe_load(str(dst))  # weights-only
    assert converted['meta'] == dict(converted_from=src.name,
                                     mmdet_version='3.3.0')
    ours = build_ours('panoptic')
    ours.load_state_dict(converted['state_dict'], strict=True)
    x = torch.randn(1, 3, 64, 64, generator=torch.Generator().manual_seed(4))
    with torch.no_grad():
        cls_t, masks_t = theirs.panoptic_head(theirs.extract_feat(x),
                                              _samples('panoptic', 1, 64))
        o = ours.panoptic_head(ours.extract_feat(x))
    assert (o.mask_logits - _stack(masks_t)).abs().max() < 1e-5
    assert (o.cls_logits - _stack(cls_t)).abs().max() < 1e-5


def test_convert_tool_names_unmapped_keys(tmp_path):
    theirs = build_theirs('semantic')
    sd = theirs.state_dict()
    sd['decode_head.extra_module.weight'] = torch.zeros(1)
    src = tmp_path / 'theirs.pth'
    torch.save(dict(state_dict=sd), src)
    with pytest.raises(CheckpointError) as e:
        convert_main([str(src), str(tmp_path / 'out.pth')])
    assert str(src) in str(e.value)
    assert 'decode_head.extra_module.weight' in str(e.value)
    assert not (tmp_path / 'out.pth').exists()
    # a Mask2Former of other sizes is refused against the config
    del sd['decode_head.extra_module.weight']
    torch.save(dict(state_dict=sd), src)
    r50 = osp.join(REPO, 'configs', 'mask2former_r50_ade20k.py')
    with pytest.raises(CheckpointError, match='shape mismatch'):
        convert_main([str(src), str(tmp_path / 'out.pth'), '--config', r50])
