"""Parity with the official Mask2Former modules (shared/golden-mask2former/*.pt).

Every golden file is checked the same way: our modules are built from the
file's ``config`` through the registry, loaded through the official-checkpoint
converter, and must reproduce, stage by stage on the stored upstream values
(golden README section 17), the official pixel decoder (with its deformable
sampling), every decoder prediction and attention mask, the matching and
the losses under the recorded random points, and the three inferences.
Tolerances are the README's (section 14): float tensors atol = rtol = 1e-5,
losses rtol 1e-5, every integer or boolean output exact.
"""
import glob
import os
import os.path as osp

import pytest
import torch
import torch.nn.functional as F
from mmengine.registry import init_default_scope

import mmmaskformer  # noqa: F401
from mmmaskformer.converters import convert_mask2former_state_dict
from mmmaskformer.layers.ms_deform_attn import ms_deform_attn_core
from mmmaskformer.models.inference import crop_and_resize
from mmmaskformer.models.inference.mask2former import (
    mask2former_instance_inference,
    mask2former_panoptic_inference,
    mask2former_semantic_inference,
)
from mmmaskformer.models.losses.mask2former_points import (
    Mask2FormerCriterion,
    PointSampler,
    importance_sampled_coords,
)
from mmmaskformer.models.losses.point_sampling import point_sample
from mmmaskformer.models.losses.set_criterion import pad_target_masks
from mmmaskformer.registry import MODELS
from mmmaskformer.structures import MaskTargets

ATOL = RTOL = 1e-5
# where the golden files are: $MMMASKFORMER_SHARED, or ../shared beside
# the repository (the `shared` fixture of tests/conftest.py says the same)
SHARED = os.environ.get('MMMASKFORMER_SHARED', osp.join(
    osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__)))), '..',
    'shared'))
GOLDEN_DIR = osp.join(SHARED, 'golden-mask2former')
GOLDEN = sorted(glob.glob(osp.join(GOLDEN_DIR, '*.pt')))
CASES = [pytest.param(p, id=osp.basename(p)) for p in GOLDEN] or [
    pytest.param(None, id='no-golden-files')]

_CACHE = {}


@pytest.fixture(autouse=True)
def _one_thread():
    # the golden values were produced with one thread (README section 14)
    n = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(n)


def _load(path):
    if path is None:  # as the README says: skipped, or failed in CI
        message = f'no golden files under {GOLDEN_DIR}'
        if os.environ.get('MMMASKFORMER_REQUIRE_SHARED'):
            pytest.fail(message + ' (MMMASKFORMER_REQUIRE_SHARED is set)')
        pytest.skip(message + ' (set MMMASKFORMER_SHARED)')
    if path not in _CACHE:
        _CACHE[path] = torch.load(path, weights_only=True)
    return _CACHE[path]


def close(actual, expected, name, atol=ATOL, rtol=RTOL):
    torch.testing.assert_close(actual, expected, atol=atol, rtol=rtol,
                               msg=lambda m: f'{name}: {m}')


def equal(actual, expected, name):
    assert actual.shape == expected.shape, (name, actual.shape,
                                            expected.shape)
    assert torch.equal(actual, expected), (
        f'{name}: {(actual != expected).sum().item()} entries differ')


# ---------------------------------------------------------------- building
def level_names(cfg):
    """Backbone levels, high resolution first (by stride)."""
    return sorted(cfg['feature_strides'], key=cfg['feature_strides'].get)


def module_configs(cfg):
    names = level_names(cfg)
    transformer_levels = sorted(cfg['transformer_in_features'],
                                key=cfg['feature_strides'].get)
    # our pixel decoder reads the coarsest levels
    assert transformer_levels == names[len(names) - len(transformer_levels):]
    assert cfg['dec_layers_cfg'] - 1 == cfg['dec_layers_module']
    assert cfg['norm'] in ('GN', '')
    pixel_decoder = dict(
        type='MSDeformAttnPixelDecoder', in_channels=cfg['channels'],
        feature_strides=[cfg['feature_strides'][k] for k in names],
        conv_dim=cfg['conv_dim'], mask_dim=cfg['mask_dim'],
        num_groups=32 if cfg['norm'] == 'GN' else None,
        num_transformer_levels=len(transformer_levels),
        num_encoder_layers=cfg['transformer_enc_layers'],
        num_heads=cfg['nheads'],
        dim_feedforward=cfg['transformer_dim_feedforward'],
        dropout=cfg['transformer_dropout'],
        common_stride=cfg['common_stride'])
    decoder = dict(
        type='MultiScaleMaskedTransformerDecoder', in_channels=cfg['conv_dim'],
        num_classes=cfg['num_classes'], hidden_dim=cfg['hidden_dim'],
        num_queries=cfg['num_queries'], num_heads=cfg['nheads'],
        dim_feedforward=cfg['dim_feedforward'],
        num_layers=cfg['dec_layers_module'], mask_dim=cfg['mask_dim'],
        pre_norm=cfg['pre_norm'],
        enforce_input_proj=cfg['enforce_input_project'])
    return pixel_decoder, decoder


def build_criterion(cfg):
    return Mask2FormerCriterion(
        num_classes=cfg['num_classes'], class_weight=cfg['class_weight'],
        mask_weight=cfg['mask_weight'], dice_weight=cfg['dice_weight'],
        no_object_weight=cfg['no_object_weight'],
        num_points=cfg['num_points'],
        oversample_ratio=cfg['oversample_ratio'],
        importance_sample_ratio=cfg['importance_sample_ratio'])


def converted(data):
    return convert_mask2former_state_dict(
        data['state_dict']['checkpoint'], head_prefix='',
        no_object_weight=data['config']['no_object_weight'])


def _sub(sd, prefix):
    return {k[len(prefix):]: v for k, v in sd.items() if k.startswith(prefix)}


def setup(path):
    """(data, pixel decoder, transformer decoder), weights loaded through the
    converter."""
    data = _load(path)
    init_default_scope('mmmaskformer')
    pd_cfg, dec_cfg = module_configs(data['config'])
    pixel_decoder, decoder = MODELS.build(pd_cfg), MODELS.build(dec_cfg)
    sd = converted(data)
    for module, prefix in ((pixel_decoder, 'pixel_decoder.'),
                           (decoder, 'transformer_decoder.')):
        part = _sub(sd, prefix)
        ours = module.state_dict()
        assert set(part) == set(ours), (sorted(set(ours) - set(part)),
                                        sorted(set(part) - set(ours)))
        for k, v in part.items():
            assert v.shape == ours[k].shape, (prefix + k, v.shape,
                                              ours[k].shape)
        module.load_state_dict(part, strict=True)
    return data, pixel_decoder.eval(), decoder.eval()


def features(data):
    feats = data['inputs']['features']
    return [feats[k] for k in level_names(data['config'])]


def predictions(outputs):
    """Official outputs -> [(pred_logits, pred_masks)] in prediction order
    (aux 0 = from the query features ... final last)."""
    return [(a['pred_logits'], a['pred_masks'])
            for a in outputs['aux_outputs']] + [
        (outputs['pred_logits'], outputs['pred_masks'])]


def stacked(outputs):
    preds = predictions(outputs)
    return (torch.stack([c for c, _ in preds]),
            torch.stack([m for _, m in preds]))


def prediction_index(name, num_predictions):
    """'final' -> the last prediction, 'aux_i' -> i."""
    return num_predictions - 1 if name == 'final' else int(
        name[len('aux_'):])


def targets_of(targets):
    return [MaskTargets(t['labels'], t['masks']) for t in targets]


class ReplaySampler(PointSampler):
    """Hands out recorded points in the order the criterion asks for them."""

    def __init__(self, matching_points, loss_points):
        super().__init__()
        self.matching = list(matching_points)
        self.loss = list(loss_points)

    def matching_points(self, num_points, device):
        points = self.matching.pop(0)
        assert points.shape == (num_points, 2)
        return points

    def loss_points(self, mask_logits, num_points, oversample_ratio,
                    importance_sample_ratio):
        points = self.loss.pop(0)
        assert points.shape == (len(mask_logits), num_points, 2)
        return points

    def assert_consumed(self):
        assert not self.matching and not self.loss, (len(self.matching),
                                                     len(self.loss))


# ---------------------------------------------------------------- converter
@pytest.mark.parametrize('path', CASES)
def test_converter_sets_every_parameter(path):
    data, pixel_decoder, decoder = setup(path)
    sd = converted(data)
    checkpoint = data['state_dict']['checkpoint']
    # every key but criterion.empty_weight becomes one of ours, unchanged
    assert len(sd) == len(checkpoint) - 1
    assert set(sd) == {'pixel_decoder.' + k for k in pixel_decoder.state_dict()
                       } | {'transformer_decoder.' + k
                            for k in decoder.state_dict()}
    # the per-module dicts of the file give the same weights
    parts = {'sem_seg_head.pixel_decoder.' + k: v
             for k, v in data['state_dict']['pixel_decoder'].items()}
    parts.update({'sem_seg_head.predictor.' + k: v
                  for k, v in data['state_dict']['predictor'].items()})
    again = convert_mask2former_state_dict(parts, head_prefix='')
    assert again.keys() == sd.keys()
    for k in sd:
        equal(again[k], sd[k], k)


# ---------------------------------------------------------------- forward
@pytest.mark.parametrize('path', CASES)
def test_pixel_decoder(path):
    data, pixel_decoder, _ = setup(path)
    ref = data['pixel_decoder']
    feats = features(data)
    seen = {'input_proj': {}, 'layers': {}}

    def keep_proj(lvl):
        return lambda m, i, o: seen['input_proj'].__setitem__(lvl, o)

    def keep_layer(j):
        return lambda m, i, o: seen['layers'].__setitem__(j, o)

    def keep_attn(module, args, output):
        if 'attn0' not in seen:
            query, ref_points, _, shapes, start = args
            seen['attn0'] = (ref_points, shapes, start,
                             module.sampling(query, ref_points, shapes))

    handles = [p.register_forward_hook(keep_proj(lvl))
               for lvl, p in enumerate(pixel_decoder.input_proj)]
    handles += [layer.register_forward_hook(keep_layer(j))
                for j, layer in enumerate(pixel_decoder.encoder.layers)]
    handles.append(pixel_decoder.encoder.layers[0].self_attn
                   .register_forward_hook(keep_attn))
    handles.append(pixel_decoder.output_convs[0].register_forward_hook(
        lambda m, i, o: seen.__setitem__('fpn', o)))
    with torch.no_grad():
        out = pixel_decoder(feats)
    for h in handles:
        h.remove()
    levels = feats[::-1][:len(ref['input_proj'])]  # coarsest first
    for lvl, expected in enumerate(ref['input_proj']):
        close(seen['input_proj'][lvl], expected, f'input_proj {lvl}')
        close(pixel_decoder.pos_embed(levels[lvl]), ref['pos_embed'][lvl],
              f'pos_embed {lvl}')
    ref_points, shapes, start, (locations, weights) = seen['attn0']
    equal(shapes, ref['spatial_shapes'], 'spatial_shapes')
    equal(start, ref['level_start_index'], 'level_start_index')
    close(ref_points, ref['reference_points'], 'reference_points')
    close(locations, ref['msdeform_layer0']['sampling_locations'],
          'layer 0 sampling_locations')
    close(weights, ref['msdeform_layer0']['attention_weights'],
          'layer 0 attention_weights')
    num_layers = len(pixel_decoder.encoder.layers)
    assert len(ref['encoder_layer_outputs_except_last']) == num_layers - 1
    for j, expected in enumerate(ref['encoder_layer_outputs_except_last']):
        close(seen['layers'][j], expected, f'encoder layer {j}')
    assert len(out.memory) == len(ref['multi_scale_features'])
    for lvl, expected in enumerate(ref['multi_scale_features']):
        close(out.memory[lvl], expected, f'multi_scale_features {lvl}')
    close(seen['fpn'], ref['fpn_output'], 'fpn_output')
    close(out.pixel_embed, ref['mask_features'], 'mask_features')


@pytest.mark.parametrize('path', CASES)
def test_deform_attn_kernels_agree(path):
    """Our pure-PyTorch kernel (the layers' default) and mmcv's (what the
    registered pixel decoder uses) on the golden layer-0 sampling."""
    data, pixel_decoder, _ = setup(path)
    ref = data['pixel_decoder']
    attn = pixel_decoder.encoder.layers[0].self_attn
    n, tokens = ref['reference_points'].shape[:2]
    value = torch.randn(n, tokens, attn.n_heads,
                        pixel_decoder.conv_dim // attn.n_heads,
                        generator=torch.Generator().manual_seed(0))
    args = (value, ref['spatial_shapes'], ref['level_start_index'],
            ref['msdeform_layer0']['sampling_locations'],
            ref['msdeform_layer0']['attention_weights'])
    close(ms_deform_attn_core(*args), attn.kernel(*args), 'kernels')


@pytest.mark.parametrize('path', CASES)
def test_pixel_decoder_float32_under_autocast(path):
    data, pixel_decoder, _ = setup(path)
    feats = features(data)
    with torch.no_grad():
        with torch.autocast('cpu', dtype=torch.bfloat16):
            amp = pixel_decoder([f.bfloat16() for f in feats])
        # bf16 inputs lose precision before the float32 decoder, not in it
        plain = pixel_decoder([f.bfloat16().float() for f in feats])
    assert amp.pixel_embed.dtype == torch.float32
    equal(amp.pixel_embed, plain.pixel_embed, 'autocast pixel_embed')
    for lvl, (a, b) in enumerate(zip(amp.memory, plain.memory)):
        assert a.dtype == torch.float32, lvl
        equal(a, b, f'autocast memory {lvl}')


@pytest.mark.parametrize('path', CASES)
def test_transformer_decoder(path):
    data, _, decoder = setup(path)
    ref = data['decoder']
    memory = data['pixel_decoder']['multi_scale_features']
    pixel_embed = data['pixel_decoder']['mask_features']
    with torch.no_grad():
        trace = decoder.trace(memory, pixel_embed)
    assert decoder.num_layers == ref['num_layers']
    for lvl, expected in enumerate(ref['level_pos']):
        close(trace.pos[lvl], expected, f'level_pos {lvl}')
    assert len(trace.attn_masks) == len(ref['predictions'])
    for p, expected in enumerate(ref['predictions']):
        close(trace.normed[p], expected['decoder_norm_out'],
              f'prediction {p} decoder_norm_out')
        close(trace.mask_embed[p], expected['mask_embed'],
              f'prediction {p} mask_embed')
        close(trace.output.cls_logits[p], expected['pred_logits'],
              f'prediction {p} pred_logits')
        close(trace.output.mask_logits[p], expected['pred_masks'],
              f'prediction {p} pred_masks')
        h, w = expected['attn_mask_target_size']
        assert trace.attn_masks[p].shape[-1] == h * w, p
        equal(trace.attn_masks[p], expected['attn_mask'],
              f'prediction {p} attn_mask')
    assert len(trace.attn_masks_used) == len(ref['layers'])
    for i, expected in enumerate(ref['layers']):
        assert expected['level_index'] == i % decoder.num_levels
        equal(trace.attn_masks_used[i], expected['attn_mask_used'],
              f'layer {i} attn_mask_used')
        unmasked = trace.attn_masks[i].all(-1).sum().item()
        assert unmasked == expected['num_unmasked_rows'], i
        close(trace.after_cross_attn[i], expected['after_cross_attn'],
              f'layer {i} after_cross_attn')
        close(trace.after_self_attn[i], expected['after_self_attn'],
              f'layer {i} after_self_attn')
        close(trace.after_ffn[i], expected['after_ffn'],
              f'layer {i} after_ffn')
    cls, masks = stacked(data['outputs'])
    close(trace.output.cls_logits, cls, 'cls_logits (aux + pred_logits)')
    close(trace.output.mask_logits, masks, 'mask_logits (aux + pred_masks)')
    with torch.no_grad():
        plain = decoder(memory, pixel_embed)
    equal(plain.cls_logits, trace.output.cls_logits, 'forward vs trace')


@pytest.mark.parametrize('path', CASES)
def test_end_to_end(path):
    """From the converted weights and the backbone features only."""
    data, pixel_decoder, decoder = setup(path)
    with torch.no_grad():
        pixel = pixel_decoder(features(data))
        out = decoder(pixel.memory, pixel.pixel_embed)
    cls, masks = stacked(data['outputs'])
    close(out.cls_logits, cls, 'cls_logits end to end')
    close(out.mask_logits, masks, 'mask_logits end to end')


# ---------------------------------------------------------------- training
def _targets_and_masks(targets):
    labels = [t.labels for t in targets]
    masks = pad_target_masks(targets, torch.float32)
    return labels, list(masks.split([len(t.labels) for t in targets]))


@pytest.mark.parametrize('path', CASES)
def test_matching(path):
    data = _load(path)
    criterion = build_criterion(data['config'])
    preds = predictions(data['outputs'])
    labels, masks = _targets_and_masks(targets_of(data['inputs']['targets']))
    order = data['matching']['order']
    assert sorted(prediction_index(n, len(preds)) for n in order) == list(
        range(len(preds)))
    for name in order:
        ref = data['matching']['final'] if name == 'final' else \
            data['matching']['aux'][prediction_index(name, len(preds))]
        cls, mask = preds[prediction_index(name, len(preds))]
        sampler = ReplaySampler(ref['point_coords'], [])
        matches, costs = criterion.matcher.match(cls, mask, labels, masks,
                                                 sampler)
        sampler.assert_consumed()
        for b, (src, tgt) in enumerate(matches):
            for field, key in (('cost_class', 'cost_class'),
                               ('cost_mask', 'cost_mask'),
                               ('cost_dice', 'cost_dice'), ('total', 'C')):
                close(getattr(costs[b], field), ref[key][b],
                      f'{name} image {b} {key}')
            equal(src, ref['indices'][b][0], f'{name} image {b} queries')
            equal(tgt, ref['indices'][b][1], f'{name} image {b} targets')


@pytest.mark.parametrize('path', CASES)
def test_importance_sampling(path):
    data = _load(path)
    cfg = data['config']
    ref = data['point_sampling']['final']
    pred = data['outputs']['pred_masks'][ref['src_batch_idx'],
                                         ref['src_query_idx']]
    assert ref['n_sampled'] == int(cfg['num_points'] *
                                   cfg['oversample_ratio'])
    assert ref['n_uncertain'] == int(cfg['importance_sample_ratio'] *
                                     cfg['num_points'])
    assert ref['n_random'] == cfg['num_points'] - ref['n_uncertain']
    coords = importance_sampled_coords(
        pred, cfg['num_points'], cfg['oversample_ratio'],
        cfg['importance_sample_ratio'], ref['candidate_coords'],
        ref['random_coords'])
    equal(coords, ref['point_coords'], 'final point_coords')
    close(point_sample(pred, coords), ref['point_logits'], 'point_logits')
    targets = targets_of(data['inputs']['targets'])
    masks = pad_target_masks(targets, torch.float32)
    offsets = torch.tensor([0] + [len(t.labels) for t in targets]).cumsum(0)
    target = masks[offsets[ref['src_batch_idx']] + ref['tgt_idx']]
    close(point_sample(target, coords), ref['point_labels'], 'point_labels')


def _check_losses(losses, expected, name):
    assert list(losses) == list(expected), name
    for k, v in expected.items():
        torch.testing.assert_close(losses[k], v, rtol=RTOL, atol=0,
                                   msg=lambda m: f'{name} {k}: {m}')


@pytest.mark.parametrize('path', CASES)
def test_losses(path):
    data = _load(path)
    cfg = data['config']
    criterion = build_criterion(cfg)
    cls, masks = stacked(data['outputs'])
    targets = targets_of(data['inputs']['targets'])
    order = data['matching']['order']
    refs = [data['matching']['final'] if n == 'final' else
            data['matching']['aux'][prediction_index(n, len(cls))]
            for n in order]
    samples = [data['point_sampling']['final'] if n == 'final' else
               data['point_sampling']['aux'][prediction_index(n, len(cls))]
               for n in order]
    sampler = ReplaySampler(
        [p for r in refs for p in r['point_coords']],
        [s['point_coords'] for s in samples])
    records = []
    losses = criterion.unweighted_losses(cls, masks, targets, sampler,
                                         records)
    sampler.assert_consumed()
    ref = data['losses']
    assert list(losses) == ref['order']
    _check_losses(losses, ref['unweighted'], 'unweighted')
    for record, sample in zip(records, samples):
        equal(record.batch_idx, sample['src_batch_idx'], 'src_batch_idx')
        equal(record.query_idx, sample['src_query_idx'], 'src_query_idx')
        equal(record.target_idx, sample['tgt_idx'], 'tgt_idx')
    final = samples[order.index('final')]
    record = records[order.index('final')]
    close(record.point_logits, final['point_logits'], 'final point_logits')
    close(record.point_labels, final['point_labels'], 'final point_labels')
    for k, w in ref['weight_dict'].items():
        assert criterion.weight_of(k) == w, k
    sampler = ReplaySampler(
        [p for r in refs for p in r['point_coords']],
        [s['point_coords'] for s in samples])
    weighted = criterion(cls, masks, targets, sampler)
    _check_losses(weighted, ref['weighted'], 'weighted')
    torch.testing.assert_close(sum(weighted.values()), ref['total'],
                               rtol=RTOL, atol=0)


def _recorded_points(records):
    return [c.point_coords for r in records for c in r.costs], [
        r.point_coords for r in records]


def _same_loss_points(ours, expected, num_uncertain, name):
    """The uncertain part as a set per mask (topk's order of near-equal
    uncertainties is not meaningful), the random part exactly."""
    assert ours.shape == expected.shape, name
    equal(ours[:, num_uncertain:], expected[:, num_uncertain:],
          f'{name} random points')
    for n in range(len(ours)):
        a = ours[n, :num_uncertain].tolist()
        b = expected[n, :num_uncertain].tolist()
        assert sorted(map(tuple, a)) == sorted(map(tuple, b)), (name, n)


@pytest.mark.parametrize('path', CASES)
def test_losses_from_the_seed(path):
    """The default sampler draws the official points from the official seed
    (same calls, same order), so the losses come out without replay."""
    data = _load(path)
    cfg = data['config']
    criterion = build_criterion(cfg)
    cls, masks = stacked(data['outputs'])
    targets = targets_of(data['inputs']['targets'])
    records = []
    state = torch.random.get_rng_state()
    try:
        torch.manual_seed(data['losses']['criterion_seed'])
        losses = criterion.unweighted_losses(cls, masks, targets,
                                             records=records)
    finally:
        torch.random.set_rng_state(state)
    _check_losses(losses, data['losses']['unweighted'], 'seeded')
    order = data['matching']['order']
    num_uncertain = int(cfg['importance_sample_ratio'] * cfg['num_points'])
    for name, record in zip(order, records):
        p = prediction_index(name, len(cls))
        ref = data['matching']['final'] if name == 'final' else \
            data['matching']['aux'][p]
        sample = data['point_sampling']['final'] if name == 'final' else \
            data['point_sampling']['aux'][p]
        for b, c in enumerate(record.costs):
            equal(c.point_coords, ref['point_coords'][b],
                  f'{name} matching points {b}')
        _same_loss_points(record.point_coords, sample['point_coords'],
                          num_uncertain, name)


EDGE_TARGETS = {
    # criterion_edge_cases key -> the targets it used (golden README §11)
    'last_image_empty': lambda ts: ts[:-1] + [_empty_like(ts[-1])],
    'all_images_empty': lambda ts: [_empty_like(t) for t in ts],
}


def _empty_like(target):
    return MaskTargets(target.labels[:0], target.masks[:0])


@pytest.mark.parametrize('path', CASES)
def test_criterion_edge_cases(path):
    data = _load(path)
    cfg = data['config']
    cls, masks = stacked(data['outputs'])
    num_uncertain = int(cfg['importance_sample_ratio'] * cfg['num_points'])
    cases = data['criterion_edge_cases']
    assert set(cases) <= set(EDGE_TARGETS), set(cases) - set(EDGE_TARGETS)
    for case, ref in cases.items():
        targets = EDGE_TARGETS[case](targets_of(data['inputs']['targets']))
        num_masks = sum(len(t.labels) for t in targets)
        assert max(num_masks, 1) == ref['num_masks'], case
        criterion = build_criterion(cfg)
        sampler = ReplaySampler(
            [p for m in ref['matching'] for p in m['point_coords']],
            ref['point_coords'])
        records = []
        losses = criterion.unweighted_losses(cls, masks, targets, sampler,
                                             records)
        sampler.assert_consumed()
        _check_losses(losses, ref['losses_unweighted'], case)
        for p, (record, m) in enumerate(zip(records, ref['matching'])):
            for b, ((src, tgt), c) in enumerate(zip(record.matches,
                                                    record.costs)):
                close(c.total, m['C'][b], f'{case} {p} image {b} C')
                equal(src, m['indices'][b][0], f'{case} {p} {b} queries')
                equal(tgt, m['indices'][b][1], f'{case} {p} {b} targets')
        # and from the case's own seed, without replay
        records = []
        state = torch.random.get_rng_state()
        try:
            torch.manual_seed(ref['criterion_seed'])
            seeded = criterion.unweighted_losses(cls, masks, targets,
                                                 records=records)
        finally:
            torch.random.set_rng_state(state)
        _check_losses(seeded, ref['losses_unweighted'], f'{case} seeded')
        matching_points, loss_points = _recorded_points(records)
        expected = [p for m in ref['matching'] for p in m['point_coords']]
        assert len(matching_points) == len(expected)
        for i, (a, b) in enumerate(zip(matching_points, expected)):
            equal(a, b, f'{case} seeded matching points {i}')
        for i, (a, b) in enumerate(zip(loss_points, ref['point_coords'])):
            _same_loss_points(a, b, num_uncertain, f'{case} seeded {i}')


@pytest.mark.parametrize('path', CASES)
def test_every_parameter_gets_a_gradient(path):
    """Training from the features: every parameter of both modules takes
    part in the loss (an unused one breaks DDP)."""
    data, pixel_decoder, decoder = setup(path)
    pixel_decoder.train()
    decoder.train()
    pixel = pixel_decoder(features(data))
    out = decoder(pixel.memory, pixel.pixel_embed)
    criterion = build_criterion(data['config'])
    losses = criterion(out.cls_logits, out.mask_logits,
                       targets_of(data['inputs']['targets']),
                       PointSampler(torch.Generator().manual_seed(0)))
    sum(losses.values()).backward()
    for prefix, module in (('pixel_decoder', pixel_decoder),
                           ('transformer_decoder', decoder)):
        for name, p in module.named_parameters():
            assert p.grad is not None, f'{prefix}.{name}: no gradient'
            assert p.grad.abs().sum() > 0, f'{prefix}.{name}: zero gradient'


def test_criterion_gradient_without_targets():
    """No target anywhere: the mask losses are zero and every prediction
    still receives a (zero) gradient."""
    criterion = Mask2FormerCriterion(num_classes=3, num_points=16)
    cls = torch.randn(2, 2, 4, 4, requires_grad=True)
    masks = torch.randn(2, 2, 4, 8, 8, requires_grad=True)
    targets = [MaskTargets(torch.zeros(0, dtype=torch.long),
                           torch.zeros(0, 32, 32, dtype=torch.bool))] * 2
    losses = criterion(cls, masks, targets)
    assert losses['loss_mask'].item() == 0 and losses['loss_dice_0'] == 0
    sum(losses.values()).backward()
    assert masks.grad is not None and torch.all(masks.grad == 0)
    assert cls.grad.abs().sum() > 0


# ---------------------------------------------------------------- inference
def _thresholds(key):
    # 'omt0.5_ot0.5' -> (0.5, 0.5)
    omt, ot = key.split('_')
    return float(omt[len('omt'):]), float(ot[len('ot'):])


def _panoptic_equal(result, expected, where):
    equal(result.panoptic_seg, expected['panoptic_seg'], where)
    assert result.segments_info == expected['segments_info'], where


def _upsampled(data):
    inputs = data['inputs']
    return F.interpolate(data['outputs']['pred_masks'],
                         size=tuple(inputs['padded_size']), mode='bilinear',
                         align_corners=False)


@pytest.mark.parametrize('path', CASES)
def test_semantic_inference(path):
    data = _load(path)
    inputs, inf = data['inputs'], data['inference']
    up = _upsampled(data)
    logits = data['outputs']['pred_logits']
    for key, first in (('semantic', True), ('semantic_after', False)):
        for b in range(len(up)):
            scores = mask2former_semantic_inference(
                logits[b], up[b], inputs['image_sizes'][b],
                inputs['output_sizes'][b], resize_logits_first=first)
            close(scores, inf[key][b], f'{key} image {b}')
            equal(scores.argmax(0), inf[key][b].argmax(0),
                  f'{key} image {b} argmax')
    syn = inf['panoptic_synthetic']
    for b, x in enumerate(syn['inputs']):
        size = x['mask_pred'].shape[-2:]
        scores = mask2former_semantic_inference(x['mask_cls'], x['mask_pred'],
                                                size, size)
        close(scores, syn['semantic'][b], f'synthetic semantic {b}')
        equal(scores.argmax(0), syn['semantic'][b].argmax(0),
              f'synthetic semantic {b} argmax')


@pytest.mark.parametrize('path', CASES)
def test_panoptic_inference(path):
    data = _load(path)
    cfg, inputs, inf = data['config'], data['inputs'], data['inference']
    things = cfg['thing_classes']
    up = _upsampled(data)
    logits = data['outputs']['pred_logits']
    assert len(inf['panoptic']) == len(cfg['panoptic_threshold_pairs'])
    for key, per_image in inf['panoptic'].items():
        omt, ot = _thresholds(key)
        for b in range(len(up)):
            mask_logits = crop_and_resize(up[b], inputs['image_sizes'][b],
                                          inputs['output_sizes'][b])
            result = mask2former_panoptic_inference(logits[b], mask_logits,
                                                    things, omt, ot)
            _panoptic_equal(result, per_image[b], f'{key} image {b}')
    syn = inf['panoptic_synthetic']
    keys = [k for k in syn if k.startswith('omt')]
    assert len(keys) == len(cfg['synthetic_threshold_pairs'])
    for key in keys:
        omt, ot = _thresholds(key)
        for b, x in enumerate(syn['inputs']):
            result = mask2former_panoptic_inference(
                x['mask_cls'], x['mask_pred'], things, omt, ot)
            _panoptic_equal(result, syn[key][b], f'synthetic {key} image {b}')


@pytest.mark.parametrize('path', CASES)
def test_instance_inference(path):
    data = _load(path)
    cfg, inputs, inf = data['config'], data['inputs'], data['inference']
    up = _upsampled(data)
    logits = data['outputs']['pred_logits']
    for key, thing_classes in (('panoptic_on_False', None),
                               ('panoptic_on_True', cfg['thing_classes'])):
        for b in range(len(up)):
            ref = inf['instance'][key][b]
            mask_logits = crop_and_resize(up[b], inputs['image_sizes'][b],
                                          inputs['output_sizes'][b])
            result = mask2former_instance_inference(
                logits[b], mask_logits, cfg['test_topk_per_image'],
                thing_classes)
            where = f'{key} image {b}'
            assert list(mask_logits.shape[-2:]) == ref['image_size'], where
            # official order is topk(sorted=False)'s: compare by pair
            ours = result.flat_index.argsort()
            theirs = ref['canonical_order']
            equal(result.flat_index[ours], ref['flat_indices'][theirs],
                  f'{where} flat_indices')
            equal(result.labels[ours], ref['pred_classes'][theirs],
                  f'{where} pred_classes')
            equal(result.masks[ours], ref['pred_masks'][theirs],
                  f'{where} pred_masks')
            close(result.scores[ours], ref['scores'][theirs],
                  f'{where} scores')
            equal(result.boxes, ref['pred_boxes'], f'{where} pred_boxes')
