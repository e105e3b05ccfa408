"""Official Mask2Former checkpoint keys -> mmmaskformer keys.

Official head (``sem_seg_head.``): the pixel decoder
``MSDeformAttnPixelDecoder`` under ``pixel_decoder.`` (the current layout)
or directly under ``sem_seg_head.`` (the layout the official loader rewrites
from: neither could be checked in a released file, so both are accepted),
and the transformer decoder ``MultiScaleMaskedTransformerDecoder`` under
``predictor.``, whose learnable query features are ``query_feat`` or, in
old checkpoints, ``static_query``. Ours: :class:`MSDeformAttnPixelDecoder`
and :class:`MultiScaleMaskedTransformerDecoder` under ``pixel_decoder.`` and
``transformer_decoder.`` of a head prefix. Backbone keys (detectron2 ResNet
or the official Swin, the same as MaskFormer's) go through
:func:`~mmmaskformer.converters.official.convert_official_state_dict`.

A pure function over a dict of tensors: every key is mapped, or checked and
consumed (``criterion.empty_weight``, ``pixel_mean``, ``pixel_std``);
anything else, and two keys landing on one of ours, raise.
"""
import re
from typing import Dict, List, Mapping, Optional, Tuple

import numpy as np
import torch

from .official import convert_official_state_dict

_PIXEL_DECODER_RULES: List[Tuple[str, str]] = [
    (r'input_proj\.(\d+)\.0\.(weight|bias)', 'input_proj.{g1}.conv.{g2}'),
    (r'input_proj\.(\d+)\.1\.(weight|bias)', 'input_proj.{g1}.norm.{g2}'),
    (r'transformer\.level_embed', 'level_embed'),
    (r'transformer\.encoder\.layers\.(\d+)\.(self_attn\.(?:sampling_offsets|'
     r'attention_weights|value_proj|output_proj)|norm1|norm2|linear1|'
     r'linear2)\.(weight|bias)', 'encoder.layers.{g1}.{g2}.{g3}'),
    (r'mask_features\.(weight|bias)', 'mask_feature.{g1}'),
    # adapter_k / layer_k serve input k-1 (res2 = adapter_1)
    (r'adapter_(\d+)\.(weight|bias)', 'lateral_convs.{k1}.conv.{g2}'),
    (r'adapter_(\d+)\.norm\.(weight|bias)', 'lateral_convs.{k1}.norm.{g2}'),
    (r'layer_(\d+)\.(weight|bias)', 'output_convs.{k1}.conv.{g2}'),
    (r'layer_(\d+)\.norm\.(weight|bias)', 'output_convs.{k1}.norm.{g2}'),
]

_ATTN = r'(in_proj_weight|in_proj_bias|out_proj\.weight|out_proj\.bias)'
_PREDICTOR_RULES: List[Tuple[str, str]] = [
    (r'transformer_cross_attention_layers\.(\d+)\.multihead_attn\.' + _ATTN,
     'cross_attn_layers.{g1}.attn.{g2}'),
    (r'transformer_cross_attention_layers\.(\d+)\.norm\.(weight|bias)',
     'cross_attn_layers.{g1}.norm.{g2}'),
    (r'transformer_self_attention_layers\.(\d+)\.self_attn\.' + _ATTN,
     'self_attn_layers.{g1}.attn.{g2}'),
    (r'transformer_self_attention_layers\.(\d+)\.norm\.(weight|bias)',
     'self_attn_layers.{g1}.norm.{g2}'),
    (r'transformer_ffn_layers\.(\d+)\.(linear1|linear2|norm)\.(weight|bias)',
     'ffn_layers.{g1}.{g2}.{g3}'),
    (r'decoder_norm\.(weight|bias)', 'decoder_norm.{g1}'),
    (r'(?:query_feat|static_query)\.weight', 'query_feat.weight'),
    (r'query_embed\.weight', 'query_embed.weight'),
    (r'level_embed\.weight', 'level_embed.weight'),
    (r'input_proj\.(\d+)\.(weight|bias)', 'input_proj.{g1}.{g2}'),
    (r'class_embed\.(weight|bias)', 'cls_embed.{g1}'),
    (r'mask_embed\.layers\.(\d+)\.(weight|bias)',
     'mask_embed.layers.{g1}.{g2}'),
]


def _to_tensor(value) -> torch.Tensor:
    if isinstance(value, np.ndarray):  # released .pkl files hold arrays
        return torch.from_numpy(np.ascontiguousarray(value))
    return torch.as_tensor(value)


def _apply(rules, key: str) -> Optional[str]:
    for pattern, template in rules:
        m = re.fullmatch(pattern, key)
        if m is None:
            continue
        fields = {f'g{i + 1}': v for i, v in enumerate(m.groups())}
        if '{k1}' in template:
            fields['k1'] = int(m.group(1)) - 1
        return template.format(**fields)
    return None


def convert_mask2former_state_dict(
        state_dict: Mapping[str, object], head_prefix: str = 'decode_head.',
        backbone_prefix: str = 'backbone.',
        no_object_weight: Optional[float] = 0.1) -> Dict[str, torch.Tensor]:
    """Map an official Mask2Former state dict to ours.

    Args:
        state_dict: official keys to tensors or numpy arrays (a released
            ``.pkl``'s ``"model"`` entry, or ``MaskFormer.state_dict()``).
        head_prefix: prefix of the module holding ours as ``pixel_decoder``
            and ``transformer_decoder`` (``''`` gives
            ``pixel_decoder.X`` / ``transformer_decoder.X``).
        backbone_prefix: our backbone's prefix.
        no_object_weight: checked against ``criterion.empty_weight[-1]``
            when that key is present (``None`` skips the check).

    Raises:
        KeyError: keys that no rule consumes (all of them named), or two
            official keys mapping to one of ours (e.g. both ``query_feat``
            and ``static_query``).
    """
    out: Dict[str, torch.Tensor] = {}
    source: Dict[str, str] = {}
    unknown, duplicate = [], []
    backbone = {}
    for key, value in state_dict.items():
        new = None
        if key.startswith('sem_seg_head.predictor.'):
            new = _apply(_PREDICTOR_RULES,
                         key[len('sem_seg_head.predictor.'):])
            new = new and head_prefix + 'transformer_decoder.' + new
        elif key.startswith('sem_seg_head.'):
            rest = key[len('sem_seg_head.'):]
            if rest.startswith('pixel_decoder.'):
                rest = rest[len('pixel_decoder.'):]
            new = _apply(_PIXEL_DECODER_RULES, rest)
            new = new and head_prefix + 'pixel_decoder.' + new
        elif key.startswith('backbone.') or key in ('criterion.empty_weight',
                                                    'pixel_mean',
                                                    'pixel_std'):
            backbone[key] = value  # checked and mapped by the MaskFormer one
            continue
        if new is None:
            unknown.append(key)
        elif new in out:
            duplicate.append(f'{source[new]} and {key} -> {new}')
        else:
            out[new] = _to_tensor(value)
            source[new] = key
    if unknown:
        raise KeyError('official keys with no mapping: ' + ', '.join(unknown))
    if duplicate:
        raise KeyError('official keys mapping to one key: ' +
                       '; '.join(duplicate))
    if backbone:
        out.update(convert_official_state_dict(
            backbone, head_prefix=head_prefix,
            backbone_prefix=backbone_prefix,
            no_object_weight=no_object_weight))
    return out
