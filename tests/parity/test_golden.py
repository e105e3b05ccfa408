"""Parity with the official MaskFormer modules (shared/golden/*.pt).

Every golden file is checked the same way: our modules are built from the
file's ``config``, loaded through the official-checkpoint converter, and must
reproduce the official forward outputs, matchings, losses and inference.
"""
import glob
import os
import os.path as osp

import pytest
import torch
import torch.nn.functional as F

import mmmaskformer  # noqa: F401
from mmmaskformer.converters import convert_official_state_dict
from mmmaskformer.models import MaskFormerHead
from mmmaskformer.models.inference import (
    crop_and_resize,
    panoptic_inference,
    probabilistic_semantic_inference,
)
from mmmaskformer.structures import MaskTargets

ATOL = RTOL = 1e-5
# where the golden files are: $MMMASKFORMER_SHARED, or ../shared beside
# the repository (the `shared` fixture of tests/conftest.py says the same)
SHARED = os.environ.get('MMMASKFORMER_SHARED', osp.join(
    osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__)))), '..',
    'shared'))
GOLDEN = sorted(glob.glob(osp.join(SHARED, 'golden', '*.pt')))


def _cases(needs=None):
    cases = []
    for path in GOLDEN:
        data = torch.load(path, weights_only=True)
        for name, group in data['groups'].items():
            if needs is None or needs in group:
                cases.append(pytest.param(path, name,
                                          id=f'{osp.basename(path)}-{name}'))
    return cases or [pytest.param(None, None, id='no-golden-files')]


_CACHE = {}


def _load(path):
    if path not in _CACHE:
        _CACHE[path] = torch.load(path, weights_only=True)
    return _CACHE[path]


def build_head(cfg: dict, group: dict) -> MaskFormerHead:
    encoder = group['pixel_decoder_class'] == 'TransformerEncoderPixelDecoder'
    pixel_decoder = dict(
        type='TransformerEncoderPixelDecoder' if encoder else 'FPNPixelDecoder',
        conv_dim=cfg['conv_dim'], mask_dim=cfg['mask_dim'])
    if encoder:
        pixel_decoder.update(
            num_encoder_layers=cfg['transformer_enc_layers'],
            num_heads=cfg['nheads'], dim_feedforward=cfg['dim_feedforward'],
            dropout=cfg['dropout'], pre_norm=cfg['pre_norm'])
    head = MaskFormerHead(
        num_classes=cfg['num_classes'], in_channels=cfg['channels'],
        pixel_decoder=pixel_decoder,
        transformer_decoder=dict(
            type='DETRTransformerDecoder', hidden_dim=cfg['hidden_dim'],
            num_queries=cfg['num_queries'], num_heads=cfg['nheads'],
            dim_feedforward=cfg['dim_feedforward'], dropout=cfg['dropout'],
            num_layers=cfg['dec_layers'], num_encoder_layers=cfg['enc_layers'],
            pre_norm=cfg['pre_norm'],
            enforce_input_proj=cfg['enforce_input_project']),
        criterion=dict(
            type='SetCriterion',
            assigner=dict(type='MaskFormerHungarianAssigner',
                          cost_class=cfg['cost_class'],
                          cost_mask=cfg['cost_mask'],
                          cost_dice=cfg['cost_dice']),
            class_weight=float(cfg['weight_dict']['loss_ce']),
            mask_weight=cfg['mask_weight'], dice_weight=cfg['dice_weight'],
            no_object_weight=cfg['no_object_weight']))
    return head


def stacked(outputs):
    """Official outputs -> (L, B, Q, K+1), (L, B, Q, h, w)."""
    cls = [a['pred_logits'] for a in outputs['aux_outputs']]
    masks = [a['pred_masks'] for a in outputs['aux_outputs']]
    return (torch.stack(cls + [outputs['pred_logits']]),
            torch.stack(masks + [outputs['pred_masks']]))


def targets_of(data):
    padded = data['inputs']['padded_size']
    targets = []
    for t in data['inputs']['targets']:
        m = t['masks']
        m = F.pad(m, (0, padded[1] - m.shape[-1], 0, padded[0] - m.shape[-2]))
        targets.append(MaskTargets(t['labels'], m))
    return targets


def close(actual, expected, name):
    torch.testing.assert_close(actual, expected, atol=ATOL, rtol=RTOL,
                               msg=lambda m: f'{name}: {m}')


@pytest.fixture(autouse=True)
def _one_thread():
    n = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(n)


def _setup(path, group_name):
    if path is None:  # as the README says: skipped, or failed in CI
        message = f'no golden files under {SHARED}/golden'
        if os.environ.get('MMMASKFORMER_REQUIRE_SHARED'):
            pytest.fail(message + ' (MMMASKFORMER_REQUIRE_SHARED is set)')
        pytest.skip(message + ' (set MMMASKFORMER_SHARED)')
    data = _load(path)
    group = data['groups'][group_name]
    head = build_head(data['config'], group)
    sd = convert_official_state_dict(
        group['state_dict']['checkpoint_old'], head_prefix='',
        no_object_weight=data['config']['no_object_weight'])
    missing, unexpected = head.load_state_dict(sd, strict=True)
    assert not missing and not unexpected
    return data, group, head.eval()


@pytest.mark.parametrize('path,group_name', _cases())
def test_converter_layouts_agree(path, group_name):
    data, group, head = _setup(path, group_name)
    old = convert_official_state_dict(group['state_dict']['checkpoint_old'],
                                      head_prefix='')
    cur = convert_official_state_dict(
        group['state_dict']['checkpoint_current'], head_prefix='')
    assert old.keys() == cur.keys()
    for k in old:
        assert torch.equal(old[k], cur[k]), k
    # every parameter of the head is set from the checkpoint
    assert set(old) == set(head.state_dict())
    n_src = len(group['state_dict']['checkpoint_old'])
    assert len(old) == n_src - 1  # all but criterion.empty_weight


@pytest.mark.parametrize('path,group_name', _cases())
def test_forward(path, group_name):
    data, group, head = _setup(path, group_name)
    feats = [data['inputs']['features'][k]
             for k in ('res2', 'res3', 'res4', 'res5')]
    out = group['outputs']
    with torch.no_grad():
        pixel_embed, memory = head.pixel_decoder(feats)
        close(pixel_embed, out['mask_features'], 'mask_features')
        if 'transformer_encoder_features' in out:
            close(memory, out['transformer_encoder_features'],
                  'transformer_encoder_features')
            close(head.pixel_decoder.pos_embed(feats[-1]),
                  out['pixel_decoder_pos_embed'], 'pixel_decoder_pos_embed')
        close(head.transformer_decoder.pos_embed(memory),
              out['predictor_pos_embed'], 'predictor_pos_embed')
        hs = head.transformer_decoder(memory)
        close(hs, out['decoder_hs'], 'decoder_hs')
        result = head(feats)  # end to end from the features
    cls, masks = stacked(out)
    close(result.cls_logits, cls, 'cls_logits (pred_logits + aux)')
    close(result.mask_logits, masks, 'mask_logits (pred_masks + aux)')


@pytest.mark.parametrize('path,group_name', _cases())
def test_matching(path, group_name):
    data, group, head = _setup(path, group_name)
    cls, masks = stacked(group['outputs'])
    targets = targets_of(data)
    matching = group['matching']
    costs = head.criterion.assigner.cost_matrices(cls, masks, targets)
    matches = head.criterion.assigner.assign(cls, masks, targets)
    expected_costs = matching['cost_matrices_aux'] + [
        matching['cost_matrices_final']]
    expected = matching['aux'] + [matching['final']]
    assert matches.layer_idx.max() == len(expected) - 1
    offsets = [sum(len(t.labels) for t in targets[:b])
               for b in range(len(targets))]
    for layer in range(len(expected)):
        for b in range(len(targets)):
            close(costs[b][layer], expected_costs[layer][b],
                  f'cost layer {layer} image {b}')
            keep = (matches.layer_idx == layer) & (matches.batch_idx == b)
            src = matches.query_idx[keep]
            tgt = matches.target_idx[keep] - offsets[b]
            assert src.tolist() == expected[layer][b][0].tolist(), (layer, b)
            assert tgt.tolist() == expected[layer][b][1].tolist(), (layer, b)


@pytest.mark.parametrize('path,group_name', _cases())
def test_losses(path, group_name):
    data, group, head = _setup(path, group_name)
    cls, masks = stacked(group['outputs'])
    targets = targets_of(data)
    ref = group['losses']
    unweighted = head.criterion(cls, masks, targets, weighted=False)
    assert list(unweighted) == list(ref['unweighted'])
    for k, v in ref['unweighted'].items():
        torch.testing.assert_close(unweighted[k], v, rtol=RTOL, atol=0,
                                   msg=lambda m: f'{k}: {m}')
    weighted = head.criterion(cls, masks, targets)
    for k, v in ref['weighted'].items():
        torch.testing.assert_close(weighted[k], v, rtol=RTOL, atol=0)
    total = sum(weighted.values())
    torch.testing.assert_close(total, ref['total'], rtol=RTOL, atol=0)


def _official_upsample(data, pred_masks):
    inputs = data['inputs']
    up = F.interpolate(pred_masks, size=tuple(inputs['padded_size']),
                       mode='bilinear', align_corners=False)
    return [crop_and_resize(up[b], inputs['image_size'],
                            inputs['output_size']) for b in range(len(up))]


def _panoptic_equal(result, expected, where):
    assert torch.equal(result.panoptic_seg, expected['panoptic_seg']), where
    assert result.segments_info == expected['segments_info'], where


@pytest.mark.parametrize('path,group_name', _cases(needs='inference'))
def test_inference(path, group_name):
    data, group, head = _setup(path, group_name)
    inf = group['inference']
    out = group['outputs']
    thing_classes = data['config']['thing_classes']
    mps = _official_upsample(data, out['pred_masks'])
    for b, mp in enumerate(mps):
        scores = probabilistic_semantic_inference(out['pred_logits'][b], mp)
        close(scores, inf['semantic']['scores'][b], f'semantic scores {b}')
        assert torch.equal(scores.argmax(0), inf['semantic']['argmax'][b])
    for key, per_image in inf['panoptic'].items():
        omt, ot = _thresholds(key)
        for b, mp in enumerate(mps):
            r = panoptic_inference(out['pred_logits'][b], mp, thing_classes,
                                   omt, ot)
            _panoptic_equal(r, per_image[b], f'{key} image {b}')
    syn = inf['panoptic_synthetic']
    for key, per_image in syn.items():
        if key in ('inputs', 'semantic'):
            continue
        omt, ot = _thresholds(key)
        for b, x in enumerate(syn['inputs']):
            r = panoptic_inference(x['mask_cls'], x['mask_pred'],
                                   thing_classes, omt, ot)
            _panoptic_equal(r, per_image[b], f'synthetic {key} image {b}')
    for b, x in enumerate(syn['inputs']):
        scores = probabilistic_semantic_inference(x['mask_cls'],
                                                  x['mask_pred'])
        close(scores, syn['semantic']['scores'][b], f'synthetic semantic {b}')
        assert torch.equal(scores.argmax(0), syn['semantic']['argmax'][b])


def _thresholds(key):
    # 'omt0.5_ot0.5' -> (0.5, 0.5)
    omt, ot = key.split('_')
    return float(omt[3:]), float(ot[2:])
