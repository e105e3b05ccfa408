"""Converting official Mask2Former checkpoints: both head layouts
(``sem_seg_head.pixel_decoder.X`` / ``sem_seg_head.X``) and both query-feature
names (``query_feat`` / ``static_query``) give the same weights, every key is
consumed and every parameter of our modules set."""
from collections import OrderedDict

import numpy as np
import pytest
import torch
from mmengine.registry import init_default_scope

import mmmaskformer  # noqa: F401
from mmmaskformer.converters import convert_mask2former_state_dict
from mmmaskformer.registry import MODELS


def official_mask2former_head(num_classes=7, in_channels=(16, 32, 48, 64),
                              conv_dim=64, mask_dim=64, hidden_dim=64,
                              heads=4, points=4, enc_layers=2, enc_ffn=1024,
                              dec_layers=4, dec_ffn=128, queries=10,
                              norm='GN', old_pixel_decoder_layout=False,
                              static_query=False, rng=None):
    """Official key names and shapes (spec section 7, golden README
    section 6), random values; 3 encoder levels (res3..res5), one FPN level
    (res2)."""
    rng = rng or np.random.default_rng(0)
    sd = OrderedDict()
    pd = 'sem_seg_head.' if old_pixel_decoder_layout else \
        'sem_seg_head.pixel_decoder.'
    pr = 'sem_seg_head.predictor.'

    def t(key, *shape):
        sd[key] = rng.standard_normal(shape).astype(np.float32)

    def lin(key, o, i):
        t(key + '.weight', o, i)
        t(key + '.bias', o)

    def ln(key, c):
        t(key + '.weight', c)
        t(key + '.bias', c)

    for lvl, c in enumerate(in_channels[1:][::-1]):  # res5 first
        t(f'{pd}input_proj.{lvl}.0.weight', conv_dim, c, 1, 1)
        t(f'{pd}input_proj.{lvl}.0.bias', conv_dim)
        ln(f'{pd}input_proj.{lvl}.1', conv_dim)
    t(f'{pd}transformer.level_embed', 3, conv_dim)
    for j in range(enc_layers):
        p = f'{pd}transformer.encoder.layers.{j}'
        lin(f'{p}.self_attn.sampling_offsets', heads * 3 * points * 2,
            conv_dim)
        lin(f'{p}.self_attn.attention_weights', heads * 3 * points, conv_dim)
        lin(f'{p}.self_attn.value_proj', conv_dim, conv_dim)
        lin(f'{p}.self_attn.output_proj', conv_dim, conv_dim)
        ln(f'{p}.norm1', conv_dim)
        lin(f'{p}.linear1', enc_ffn, conv_dim)
        lin(f'{p}.linear2', conv_dim, enc_ffn)
        ln(f'{p}.norm2', conv_dim)
    t(f'{pd}mask_features.weight', mask_dim, conv_dim, 1, 1)
    t(f'{pd}mask_features.bias', mask_dim)
    t(f'{pd}adapter_1.weight', conv_dim, in_channels[0], 1, 1)
    t(f'{pd}layer_1.weight', conv_dim, conv_dim, 3, 3)
    if norm == 'GN':
        ln(f'{pd}adapter_1.norm', conv_dim)
        ln(f'{pd}layer_1.norm', conv_dim)
    else:  # d2 Conv2d with bias and no norm
        t(f'{pd}adapter_1.bias', conv_dim)
        t(f'{pd}layer_1.bias', conv_dim)
    for i in range(dec_layers):
        for name, attn in (('self_attention', 'self_attn'),
                           ('cross_attention', 'multihead_attn')):
            p = f'{pr}transformer_{name}_layers.{i}'
            t(f'{p}.{attn}.in_proj_weight', 3 * hidden_dim, hidden_dim)
            t(f'{p}.{attn}.in_proj_bias', 3 * hidden_dim)
            lin(f'{p}.{attn}.out_proj', hidden_dim, hidden_dim)
            ln(f'{p}.norm', hidden_dim)
        p = f'{pr}transformer_ffn_layers.{i}'
        lin(f'{p}.linear1', dec_ffn, hidden_dim)
        lin(f'{p}.linear2', hidden_dim, dec_ffn)
        ln(f'{p}.norm', hidden_dim)
    ln(f'{pr}decoder_norm', hidden_dim)
    t(pr + ('static_query' if static_query else 'query_feat') + '.weight',
      queries, hidden_dim)
    t(f'{pr}query_embed.weight', queries, hidden_dim)
    t(f'{pr}level_embed.weight', 3, hidden_dim)
    if conv_dim != hidden_dim:
        for lvl in range(3):
            t(f'{pr}input_proj.{lvl}.weight', hidden_dim, conv_dim, 1, 1)
            t(f'{pr}input_proj.{lvl}.bias', hidden_dim)
    lin(f'{pr}class_embed', num_classes + 1, hidden_dim)
    for k in range(3):
        lin(f'{pr}mask_embed.layers.{k}',
            mask_dim if k == 2 else hidden_dim, hidden_dim)
    empty = np.ones(num_classes + 1, np.float32)
    empty[-1] = 0.1
    sd['criterion.empty_weight'] = empty
    return sd


def build_modules(num_classes=7, in_channels=(16, 32, 48, 64), conv_dim=64,
                  mask_dim=64, hidden_dim=64, heads=4, enc_layers=2,
                  dec_layers=4, dec_ffn=128, queries=10, norm='GN'):
    init_default_scope('mmmaskformer')
    pixel_decoder = MODELS.build(dict(
        type='MSDeformAttnPixelDecoder', in_channels=list(in_channels),
        conv_dim=conv_dim, mask_dim=mask_dim,
        num_groups=32 if norm == 'GN' else None,
        num_encoder_layers=enc_layers, num_heads=heads))
    decoder = MODELS.build(dict(
        type='MultiScaleMaskedTransformerDecoder', in_channels=conv_dim,
        num_classes=num_classes, hidden_dim=hidden_dim, num_queries=queries,
        num_heads=heads, dim_feedforward=dec_ffn, num_layers=dec_layers,
        mask_dim=mask_dim))
    return pixel_decoder, decoder


def assert_loads_exactly(modules, converted, head_prefix=''):
    expected = set()
    for name, module in modules.items():
        prefix = f'{head_prefix}{name}.'
        part = {k[len(prefix):]: v for k, v in converted.items()
                if k.startswith(prefix)}
        ours = module.state_dict()
        assert set(part) == set(ours), (sorted(set(ours) - set(part))[:10],
                                        sorted(set(part) - set(ours))[:10])
        for k, v in part.items():
            assert v.shape == ours[k].shape, (k, v.shape, ours[k].shape)
        module.load_state_dict(part, strict=True)
        expected |= {prefix + k for k in ours}
    return expected


def _equal_dicts(a, b):
    assert a.keys() == b.keys()
    for k in a:
        assert torch.equal(a[k], b[k]), k


@pytest.mark.parametrize('old_layout', [False, True])
@pytest.mark.parametrize('static_query', [False, True])
def test_layouts_convert_to_the_same_weights(old_layout, static_query):
    reference = convert_mask2former_state_dict(official_mask2former_head(),
                                               head_prefix='decode_head.')
    sd = official_mask2former_head(old_pixel_decoder_layout=old_layout,
                                   static_query=static_query)
    converted = convert_mask2former_state_dict(sd, head_prefix='decode_head.')
    _equal_dicts(converted, reference)
    pixel_decoder, decoder = build_modules()
    loaded = assert_loads_exactly(
        dict(pixel_decoder=pixel_decoder, transformer_decoder=decoder),
        converted, 'decode_head.')
    assert loaded == set(converted)
    assert len(converted) == len(sd) - 1  # all but criterion.empty_weight
    # values carried over unchanged, to the right places
    pd = 'sem_seg_head.' if old_layout else 'sem_seg_head.pixel_decoder.'
    query = 'static_query' if static_query else 'query_feat'
    pairs = [
        ('pixel_decoder.input_proj.0.conv.weight', pd + 'input_proj.0.0.weight'),
        ('pixel_decoder.input_proj.2.norm.bias', pd + 'input_proj.2.1.bias'),
        ('pixel_decoder.level_embed', pd + 'transformer.level_embed'),
        ('pixel_decoder.encoder.layers.1.self_attn.sampling_offsets.bias',
         pd + 'transformer.encoder.layers.1.self_attn.sampling_offsets.bias'),
        ('pixel_decoder.lateral_convs.0.conv.weight', pd + 'adapter_1.weight'),
        ('pixel_decoder.output_convs.0.norm.weight', pd + 'layer_1.norm.weight'),
        ('pixel_decoder.mask_feature.weight', pd + 'mask_features.weight'),
        ('transformer_decoder.query_feat.weight',
         f'sem_seg_head.predictor.{query}.weight'),
        ('transformer_decoder.cross_attn_layers.3.attn.in_proj_weight',
         'sem_seg_head.predictor.transformer_cross_attention_layers.3.'
         'multihead_attn.in_proj_weight'),
        ('transformer_decoder.self_attn_layers.0.attn.out_proj.bias',
         'sem_seg_head.predictor.transformer_self_attention_layers.0.'
         'self_attn.out_proj.bias'),
        ('transformer_decoder.cls_embed.bias',
         'sem_seg_head.predictor.class_embed.bias'),
    ]
    for ours, official in pairs:
        np.testing.assert_array_equal(
            converted['decode_head.' + ours].numpy(), sd[official])


def test_hidden_dim_differs_from_pixel_decoder_width():
    """The decoder's input projections (official keys only then) convert."""
    sd = official_mask2former_head(hidden_dim=32)
    assert 'sem_seg_head.predictor.input_proj.2.weight' in sd
    converted = convert_mask2former_state_dict(sd, head_prefix='')
    pixel_decoder, decoder = build_modules(hidden_dim=32)
    assert isinstance(decoder.input_proj[0], torch.nn.Conv2d)
    loaded = assert_loads_exactly(
        dict(pixel_decoder=pixel_decoder, transformer_decoder=decoder),
        converted)
    assert loaded == set(converted)
    # and the two widths run together: (L+1, B, Q, K+1), (L+1, B, Q, h, w)
    feats = [torch.randn(2, c, 32 // s, 48 // s)
             for c, s in zip((16, 32, 48, 64), (1, 2, 4, 8))]
    with torch.no_grad():
        pixel = pixel_decoder(feats)
        out = decoder(pixel.memory, pixel.pixel_embed)
    assert [m.shape[1] for m in pixel.memory] == [64] * 3
    assert out.cls_logits.shape == (5, 2, 10, 8)
    assert out.mask_logits.shape == (5, 2, 10, 32, 48)
    assert torch.isfinite(out.mask_logits).all()


def test_fpn_without_norm():
    sd = official_mask2former_head(norm='')
    converted = convert_mask2former_state_dict(sd, head_prefix='')
    pixel_decoder, decoder = build_modules(norm='')
    loaded = assert_loads_exactly(
        dict(pixel_decoder=pixel_decoder, transformer_decoder=decoder),
        converted)
    assert loaded == set(converted)
    assert 'pixel_decoder.lateral_convs.0.conv.bias' in converted


def test_both_query_names_is_an_error():
    sd = official_mask2former_head()
    sd['sem_seg_head.predictor.static_query.weight'] = \
        sd['sem_seg_head.predictor.query_feat.weight']
    with pytest.raises(KeyError, match='static_query'):
        convert_mask2former_state_dict(sd)


def test_both_pixel_decoder_layouts_is_an_error():
    sd = official_mask2former_head()
    sd['sem_seg_head.mask_features.bias'] = \
        sd['sem_seg_head.pixel_decoder.mask_features.bias']
    with pytest.raises(KeyError, match='mask_features.bias'):
        convert_mask2former_state_dict(sd)


def test_unknown_keys_are_named():
    sd = official_mask2former_head()
    sd['sem_seg_head.predictor.transformer.decoder.norm.weight'] = \
        np.zeros(64, np.float32)  # a MaskFormer key
    sd['sem_seg_head.pixel_decoder.adapter_1.norm.running_mean'] = \
        np.zeros(64, np.float32)
    with pytest.raises(KeyError) as err:
        convert_mask2former_state_dict(sd)
    assert 'transformer.decoder.norm.weight' in str(err.value)
    assert 'adapter_1.norm.running_mean' in str(err.value)


def test_backbone_and_criterion_keys(official_keys):
    sd = official_keys.resnet_backbone(50)
    sd.update(official_mask2former_head())
    sd['pixel_mean'] = np.zeros((3, 1, 1), np.float32)
    sd['pixel_std'] = np.ones((3, 1, 1), np.float32)
    converted = convert_mask2former_state_dict(sd)
    np.testing.assert_array_equal(
        converted['backbone.layer3.5.bn2.running_var'].numpy(),
        sd['backbone.res4.5.conv2.norm.running_var'])
    assert 'backbone.layer1.0.bn1.num_batches_tracked' in converted
    assert not any(k.startswith(('criterion', 'pixel_')) for k in converted)
    assert sum(k.startswith('decode_head.') for k in converted) == \
        len(official_mask2former_head()) - 1
    with pytest.raises(ValueError, match='no_object_weight'):
        convert_mask2former_state_dict(sd, no_object_weight=0.2)
