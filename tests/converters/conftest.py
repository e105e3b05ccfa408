"""Synthetic official (detectron2) MaskFormer state dicts, generated from the
key tables of the official release (shared/docs/official-maskformer.md,
section 7): exact names and shapes, random values; the ``official_keys`` fixture."""
from collections import OrderedDict
from types import SimpleNamespace

import numpy as np
import pytest

BLOCKS = {50: (3, 4, 6, 3), 101: (3, 4, 23, 3)}


def _norm(sd, prefix, c, rng):
    for k in ('weight', 'bias', 'running_mean', 'running_var'):
        sd[f'{prefix}.{k}'] = rng.standard_normal(c).astype(np.float32)


def _conv(sd, key, shape, rng):
    sd[key] = rng.standard_normal(shape).astype(np.float32)


def resnet_backbone(depth=50, deep_stem=False, rng=None):
    rng = rng or np.random.default_rng(0)
    sd = OrderedDict()
    if deep_stem:  # R101c: three 3x3 convs 3->64->64->128
        for i, (o, c) in enumerate(((64, 3), (64, 64), (128, 64)), start=1):
            _conv(sd, f'backbone.stem.conv{i}.weight', (o, c, 3, 3), rng)
            _norm(sd, f'backbone.stem.conv{i}.norm', o, rng)
        in_c = 128
    else:
        _conv(sd, 'backbone.stem.conv1.weight', (64, 3, 7, 7), rng)
        _norm(sd, 'backbone.stem.conv1.norm', 64, rng)
        in_c = 64
    for s, n in zip(range(2, 6), BLOCKS[depth]):
        mid = 64 * 2**(s - 2)
        out = mid * 4
        for b in range(n):
            p = f'backbone.res{s}.{b}'
            _conv(sd, f'{p}.conv1.weight', (mid, in_c, 1, 1), rng)
            _norm(sd, f'{p}.conv1.norm', mid, rng)
            _conv(sd, f'{p}.conv2.weight', (mid, mid, 3, 3), rng)
            _norm(sd, f'{p}.conv2.norm', mid, rng)
            _conv(sd, f'{p}.conv3.weight', (out, mid, 1, 1), rng)
            _norm(sd, f'{p}.conv3.norm', out, rng)
            if b == 0:
                _conv(sd, f'{p}.shortcut.weight', (out, in_c, 1, 1), rng)
                _norm(sd, f'{p}.shortcut.norm', out, rng)
            in_c = out
    return sd


def maskformer_head(num_classes=150, in_channels=(256, 512, 1024, 2048),
                    dim=256, ffn=2048, queries=100, dec_layers=6,
                    enc_layers=0, old_layout=True, rng=None):
    """``enc_layers > 0``: the TransformerEncoderPixelDecoder (+6 Enc)."""
    rng = rng or np.random.default_rng(1)
    sd = OrderedDict()
    pd = 'sem_seg_head.' if old_layout else 'sem_seg_head.pixel_decoder.'

    def lin(key, o, i):
        _conv(sd, key + '.weight', (o, i), rng)
        _conv(sd, key + '.bias', (o, ), rng)

    def gn(key, c):
        _conv(sd, key + '.weight', (c, ), rng)
        _conv(sd, key + '.bias', (c, ), rng)

    for n, c in enumerate(in_channels[:-1], start=1):
        _conv(sd, f'{pd}adapter_{n}.weight', (dim, c, 1, 1), rng)
        gn(f'{pd}adapter_{n}.norm', dim)
        _conv(sd, f'{pd}layer_{n}.weight', (dim, dim, 3, 3), rng)
        gn(f'{pd}layer_{n}.norm', dim)
    _conv(sd, f'{pd}mask_features.weight', (dim, dim, 3, 3), rng)
    _conv(sd, f'{pd}mask_features.bias', (dim, ), rng)
    if enc_layers:
        _conv(sd, f'{pd}input_proj.weight', (dim, in_channels[-1], 1, 1), rng)
        _conv(sd, f'{pd}input_proj.bias', (dim, ), rng)
        for j in range(enc_layers):
            p = f'{pd}transformer.encoder.layers.{j}'
            lin(f'{p}.self_attn.in_proj', 3 * dim, dim)
            sd[f'{p}.self_attn.in_proj_weight'] = sd.pop(
                f'{p}.self_attn.in_proj.weight')
            sd[f'{p}.self_attn.in_proj_bias'] = sd.pop(
                f'{p}.self_attn.in_proj.bias')
            lin(f'{p}.self_attn.out_proj', dim, dim)
            lin(f'{p}.linear1', ffn, dim)
            lin(f'{p}.linear2', dim, ffn)
            gn(f'{p}.norm1', dim)
            gn(f'{p}.norm2', dim)
        _conv(sd, f'{pd}layer_4.weight', (dim, dim, 3, 3), rng)
    else:
        _conv(sd, f'{pd}layer_4.weight', (dim, in_channels[-1], 3, 3), rng)
    gn(f'{pd}layer_4.norm', dim)

    pr = 'sem_seg_head.predictor.'
    for i in range(dec_layers):
        p = f'{pr}transformer.decoder.layers.{i}'
        for attn in ('self_attn', 'multihead_attn'):
            _conv(sd, f'{p}.{attn}.in_proj_weight', (3 * dim, dim), rng)
            _conv(sd, f'{p}.{attn}.in_proj_bias', (3 * dim, ), rng)
            lin(f'{p}.{attn}.out_proj', dim, dim)
        lin(f'{p}.linear1', ffn, dim)
        lin(f'{p}.linear2', dim, ffn)
        for k in (1, 2, 3):
            gn(f'{p}.norm{k}', dim)
    gn(f'{pr}transformer.decoder.norm', dim)
    _conv(sd, f'{pr}query_embed.weight', (queries, dim), rng)
    if not enc_layers:  # res5 (2048 ch) needs the 1x1 projection
        _conv(sd, f'{pr}input_proj.weight', (dim, in_channels[-1], 1, 1), rng)
        _conv(sd, f'{pr}input_proj.bias', (dim, ), rng)
    lin(f'{pr}class_embed', num_classes + 1, dim)
    for i in range(3):
        lin(f'{pr}mask_embed.layers.{i}', dim, dim)
    w = np.ones(num_classes + 1, np.float32)
    w[-1] = 0.1
    sd['criterion.empty_weight'] = w
    return sd


SWIN = dict(  # embed dim, depths, heads, window
    t=(96, (2, 2, 6, 2), (3, 6, 12, 24), 7),
    s=(96, (2, 2, 18, 2), (3, 6, 12, 24), 7),
    b=(128, (2, 2, 18, 2), (4, 8, 16, 32), 12),
    l=(192, (2, 2, 18, 2), (6, 12, 24, 48), 12),
)


def swin_backbone(size='t', rng=None):
    """Official D2SwinTransformer keys (backbone.patch_embed, .layers.{i},
    .norm{i})."""
    rng = rng or np.random.default_rng(2)
    dim, depths, heads, window = SWIN[size]
    sd = OrderedDict()
    _conv(sd, 'backbone.patch_embed.proj.weight', (dim, 3, 4, 4), rng)
    _conv(sd, 'backbone.patch_embed.proj.bias', (dim, ), rng)
    _conv(sd, 'backbone.patch_embed.norm.weight', (dim, ), rng)
    _conv(sd, 'backbone.patch_embed.norm.bias', (dim, ), rng)
    for i, (depth, h) in enumerate(zip(depths, heads)):
        c = dim * 2**i
        for j in range(depth):
            p = f'backbone.layers.{i}.blocks.{j}'
            for n in ('norm1', 'norm2'):
                _conv(sd, f'{p}.{n}.weight', (c, ), rng)
                _conv(sd, f'{p}.{n}.bias', (c, ), rng)
            _conv(sd, f'{p}.attn.relative_position_bias_table',
                  ((2 * window - 1)**2, h), rng)
            sd[f'{p}.attn.relative_position_index'] = rng.integers(
                0, (2 * window - 1)**2, (window**2, window**2))
            _conv(sd, f'{p}.attn.qkv.weight', (3 * c, c), rng)
            _conv(sd, f'{p}.attn.qkv.bias', (3 * c, ), rng)
            _conv(sd, f'{p}.attn.proj.weight', (c, c), rng)
            _conv(sd, f'{p}.attn.proj.bias', (c, ), rng)
            _conv(sd, f'{p}.mlp.fc1.weight', (4 * c, c), rng)
            _conv(sd, f'{p}.mlp.fc1.bias', (4 * c, ), rng)
            _conv(sd, f'{p}.mlp.fc2.weight', (c, 4 * c), rng)
            _conv(sd, f'{p}.mlp.fc2.bias', (c, ), rng)
        if i < 3:
            _conv(sd, f'backbone.layers.{i}.downsample.reduction.weight',
                  (2 * c, 4 * c), rng)
            _conv(sd, f'backbone.layers.{i}.downsample.norm.weight', (4 * c, ),
                  rng)
            _conv(sd, f'backbone.layers.{i}.downsample.norm.bias', (4 * c, ),
                  rng)
        _conv(sd, f'backbone.norm{i}.weight', (c, ), rng)
        _conv(sd, f'backbone.norm{i}.bias', (c, ), rng)
    return sd


def swin_channels(size):
    dim = SWIN[size][0]
    return tuple(dim * 2**i for i in range(4))


@pytest.fixture(scope='session')
def official_keys():
    """The generators above: ``official_keys.resnet_backbone(50)`` etc."""
    return SimpleNamespace(resnet_backbone=resnet_backbone,
                           maskformer_head=maskformer_head,
                           swin_backbone=swin_backbone,
                           swin_channels=swin_channels)
