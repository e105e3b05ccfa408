"""Checkpoints of the Mask2Former in mmdet (``panoptic_head.``) and mmseg
(``decode_head.``) <-> ours, both directions.

mmdet 3.3's ``Mask2FormerHead`` (mmseg's ``Mask2FormerHead`` subclasses it
and only renames the prefix) holds its pixel decoder
(``MSDeformAttnPixelDecoder``: mmcv ``ConvModule``s, mmcv
``MultiScaleDeformableAttention`` + ``FFN`` + ``norms``, ``level_encoding``
an ``nn.Embedding``) and its transformer decoder
(``Mask2FormerTransformerDecoder``: ``layers.i`` of cross-attention,
self-attention, FFN and three ``norms``, ``post_norm``); the query
embeddings, level embedding, class and mask heads and the decoder input
projections sit directly on the head. Ours keeps the official module names
(:class:`~mmmaskformer.models.pixel_decoders.MSDeformAttnPixelDecoder`,
:class:`~mmmaskformer.models.transformer_decoders.MultiScaleMaskedTransformerDecoder`,
which owns the queries and both prediction heads). The table below is the
whole map (``{i}`` a layer index, ``{p}`` ``weight`` or ``bias``)::

    ours (under the head; PD = pixel_decoder.)  mmdet / mmseg (under the head)
    PD input_proj.{i}.conv.{p}                  PD input_convs.{i}.conv.{p}
    PD input_proj.{i}.norm.{p}                  PD input_convs.{i}.gn.{p}
    PD level_embed                              PD level_encoding.weight
    PD encoder.layers.{i}.self_attn.X           PD encoder.layers.{i}.self_attn.X
    PD encoder.layers.{i}.linear1.{p}           PD encoder.layers.{i}.ffn.layers.0.0.{p}
    PD encoder.layers.{i}.linear2.{p}           PD encoder.layers.{i}.ffn.layers.1.{p}
    PD encoder.layers.{i}.norm1/norm2.{p}       PD encoder.layers.{i}.norms.0/1.{p}
    PD {lateral,output}_convs.{i}.conv.{p}      PD {lateral,output}_convs.{i}.conv.{p}
    PD {lateral,output}_convs.{i}.norm.{p}      PD {lateral,output}_convs.{i}.gn.{p}
    PD mask_feature.{p}                         PD mask_feature.{p}
    (TD = transformer_decoder.)
    TD cross_attn_layers.{i}.attn.Y             TD layers.{i}.cross_attn.attn.Y
    TD cross_attn_layers.{i}.norm.{p}           TD layers.{i}.norms.0.{p}
    TD self_attn_layers.{i}.attn.Y              TD layers.{i}.self_attn.attn.Y
    TD self_attn_layers.{i}.norm.{p}            TD layers.{i}.norms.1.{p}
    TD ffn_layers.{i}.linear1.{p}               TD layers.{i}.ffn.layers.0.0.{p}
    TD ffn_layers.{i}.linear2.{p}               TD layers.{i}.ffn.layers.1.{p}
    TD ffn_layers.{i}.norm.{p}                  TD layers.{i}.norms.2.{p}
    TD decoder_norm.{p}                         TD post_norm.{p}
    TD input_proj.{i}.{p}                       decoder_input_projs.{i}.{p}
    TD query_feat.weight                        query_feat.weight
    TD query_embed.weight                       query_embed.weight
    TD level_embed.weight                       level_embed.weight
    TD cls_embed.{p}                            cls_embed.{p}
    TD mask_embed.layers.{k}.{p}                mask_embed.{2k}.{p}

(X: ``sampling_offsets``, ``attention_weights``, ``value_proj``,
``output_proj`` + ``.{p}``; Y: ``in_proj_weight``, ``in_proj_bias``,
``out_proj.weight``, ``out_proj.bias``.) Every tensor keeps its shape and
values: the layouts are the same (mmcv's deformable attention views its
offsets and weights as the official module does, ``level_encoding.weight``
is the official ``level_embed`` Parameter as an Embedding). Backbone keys
(``backbone.``: mmdet's/mmseg's ``ResNet`` or ``SwinTransformer``, the same
code on both sides) pass unchanged.

The two models compute the same function when mmdet's ``feat_channels``
equals the decoder's ``embed_dims`` (mmdet sizes the queries, level
embedding and both heads by ``feat_channels`` while its decoder works in
``embed_dims``, spec §9.2 #2; ours: ``conv_dim == hidden_dim``), and, in a
panoptic model, when the thing classes come first (mmdet's
``label < num_things_classes``; ours: ``num_things``). mmdet builds its
``lateral_convs`` coarsest first but calls them finest first; with the one
FPN level of every Mask2Former config the two orders are the same.

Pure functions over a dict of tensors: no mmdet or mmseg import. A key that
no rule maps raises ``KeyError`` naming it (all of them at once).
"""
import re
from typing import Callable, Dict, List, Mapping, Tuple

HEAD_PREFIXES = ('panoptic_head.', 'decode_head.')
PASSTHROUGH_PREFIXES = ('backbone.', )

_P = r'(weight|bias)'
_I = r'(\d+)'
_DEFORM = r'(sampling_offsets|attention_weights|value_proj|output_proj)'
_MHA = r'(in_proj_weight|in_proj_bias|out_proj\.weight|out_proj\.bias)'

# (ours, theirs): regexes over the key inside the head, with the same groups
# in the same order; every group is copied, except the mask-MLP index
_PAIRS: List[Tuple[str, str]] = [
    (rf'pixel_decoder\.input_proj\.{_I}\.conv\.{_P}',
     rf'pixel_decoder\.input_convs\.{_I}\.conv\.{_P}'),
    (rf'pixel_decoder\.input_proj\.{_I}\.norm\.{_P}',
     rf'pixel_decoder\.input_convs\.{_I}\.gn\.{_P}'),
    (r'pixel_decoder\.level_embed', r'pixel_decoder\.level_encoding\.weight'),
    (rf'pixel_decoder\.encoder\.layers\.{_I}\.self_attn\.{_DEFORM}\.{_P}',
     rf'pixel_decoder\.encoder\.layers\.{_I}\.self_attn\.{_DEFORM}\.{_P}'),
    (rf'pixel_decoder\.encoder\.layers\.{_I}\.linear1\.{_P}',
     rf'pixel_decoder\.encoder\.layers\.{_I}\.ffn\.layers\.0\.0\.{_P}'),
    (rf'pixel_decoder\.encoder\.layers\.{_I}\.linear2\.{_P}',
     rf'pixel_decoder\.encoder\.layers\.{_I}\.ffn\.layers\.1\.{_P}'),
    (rf'pixel_decoder\.encoder\.layers\.{_I}\.norm1\.{_P}',
     rf'pixel_decoder\.encoder\.layers\.{_I}\.norms\.0\.{_P}'),
    (rf'pixel_decoder\.encoder\.layers\.{_I}\.norm2\.{_P}',
     rf'pixel_decoder\.encoder\.layers\.{_I}\.norms\.1\.{_P}'),
    (rf'pixel_decoder\.(lateral|output)_convs\.{_I}\.conv\.{_P}',
     rf'pixel_decoder\.(lateral|output)_convs\.{_I}\.conv\.{_P}'),
    (rf'pixel_decoder\.(lateral|output)_convs\.{_I}\.norm\.{_P}',
     rf'pixel_decoder\.(lateral|output)_convs\.{_I}\.gn\.{_P}'),
    (rf'pixel_decoder\.mask_feature\.{_P}',
     rf'pixel_decoder\.mask_feature\.{_P}'),
    (rf'transformer_decoder\.cross_attn_layers\.{_I}\.attn\.{_MHA}',
     rf'transformer_decoder\.layers\.{_I}\.cross_attn\.attn\.{_MHA}'),
    (rf'transformer_decoder\.cross_attn_layers\.{_I}\.norm\.{_P}',
     rf'transformer_decoder\.layers\.{_I}\.norms\.0\.{_P}'),
    (rf'transformer_decoder\.self_attn_layers\.{_I}\.attn\.{_MHA}',
     rf'transformer_decoder\.layers\.{_I}\.self_attn\.attn\.{_MHA}'),
    (rf'transformer_decoder\.self_attn_layers\.{_I}\.norm\.{_P}',
     rf'transformer_decoder\.layers\.{_I}\.norms\.1\.{_P}'),
    (rf'transformer_decoder\.ffn_layers\.{_I}\.linear1\.{_P}',
     rf'transformer_decoder\.layers\.{_I}\.ffn\.layers\.0\.0\.{_P}'),
    (rf'transformer_decoder\.ffn_layers\.{_I}\.linear2\.{_P}',
     rf'transformer_decoder\.layers\.{_I}\.ffn\.layers\.1\.{_P}'),
    (rf'transformer_decoder\.ffn_layers\.{_I}\.norm\.{_P}',
     rf'transformer_decoder\.layers\.{_I}\.norms\.2\.{_P}'),
    (rf'transformer_decoder\.decoder_norm\.{_P}',
     rf'transformer_decoder\.post_norm\.{_P}'),
    (rf'transformer_decoder\.input_proj\.{_I}\.{_P}',
     rf'decoder_input_projs\.{_I}\.{_P}'),
    (r'transformer_decoder\.query_feat\.weight', r'query_feat\.weight'),
    (r'transformer_decoder\.query_embed\.weight', r'query_embed\.weight'),
    (r'transformer_decoder\.level_embed\.weight', r'level_embed\.weight'),
    (rf'transformer_decoder\.cls_embed\.{_P}', rf'cls_embed\.{_P}'),
    (rf'transformer_decoder\.mask_embed\.layers\.{_I}\.{_P}',
     rf'mask_embed\.{_I}\.{_P}'),
]
# group 1 of the mask MLP: our layer k is mmdet's Sequential entry 2k
# (Linear, ReLU, Linear, ReLU, Linear)
_MLP_OURS = _PAIRS[-1][0]


def _template(pattern: str) -> str:
    """A pair regex as a format string: groups -> {0}, {1}, ...;
    escapes removed."""
    count = iter(range(100))
    text = re.sub(r'\([^()]*\)', lambda _: '{%d}' % next(count), pattern)
    return text.replace('\\.', '.')


def _rules(to_theirs: bool) -> List[Tuple[re.Pattern, str, Callable]]:
    rules = []
    for ours, theirs in _PAIRS:
        src, dst = (ours, theirs) if to_theirs else (theirs, ours)
        if ours == _MLP_OURS:
            def index(groups, double=to_theirs):
                k = int(groups[0])
                if not double and k % 2:
                    return None  # an activation has no weights
                return (str(2 * k if double else k // 2), ) + groups[1:]
        else:
            def index(groups):
                return groups
        rules.append((re.compile(src), _template(dst), index))
    return rules


_TO_THEIRS = _rules(True)
_TO_OURS = _rules(False)


def _head_prefix(key: str):
    for prefix in HEAD_PREFIXES:
        if key.startswith(prefix):
            return prefix
    return None


def _convert(state_dict: Mapping, rules, direction: str) -> Dict:
    """Every key renamed by the first rule that matches it (the rules are
    one-to-one, so no two keys can land on one)."""
    out: Dict = {}
    unknown = []
    for key, value in state_dict.items():
        prefix = _head_prefix(key)
        if prefix is None:
            if not key.startswith(PASSTHROUGH_PREFIXES):
                unknown.append(key)
                continue
            out[key] = value
            continue
        inner = key[len(prefix):]
        for pattern, template, index in rules:
            m = pattern.fullmatch(inner)
            groups = index(m.groups()) if m is not None else None
            if groups is not None:
                out[prefix + template.format(*groups)] = value
                break
        else:
            unknown.append(key)
    if unknown:
        raise KeyError(
            f'{direction}: {len(unknown)} keys with no mapping (a '
            'Mask2Former head under ' + ' or '.join(HEAD_PREFIXES) +
            ' and a backbone under backbone. are expected; a MaskFormer '
            'checkpoint converts with converters.openmmlab): ' +
            ', '.join(unknown))
    return out


def mmdet_mask2former_to_ours(state_dict: Mapping) -> Dict:
    """mmdet's (``panoptic_head.``) or mmseg's (``decode_head.``)
    Mask2Former keys -> ours, under the same prefix; tensors unchanged.

    Raises:
        KeyError: naming every key no rule maps (e.g. a MaskFormer head,
            or a module ours does not have).
    """
    return _convert(state_dict, _TO_OURS, 'mmdet/mmseg Mask2Former -> ours')


def ours_to_mmdet_mask2former(state_dict: Mapping) -> Dict:
    """Our Mask2Former keys (``panoptic_head.`` of
    :class:`~mmmaskformer.models.segmentors.MaskFormerPanoptic`, or
    ``decode_head.`` of mmseg's ``EncoderDecoder``) -> mmdet's ``Mask2Former``
    / mmseg's, under the same prefix; tensors unchanged.

    Raises:
        KeyError: as :func:`mmdet_mask2former_to_ours`.
    """
    return _convert(state_dict, _TO_THEIRS, 'ours -> mmdet/mmseg Mask2Former')


def is_mmdet_mask2former(state_dict: Mapping) -> bool:
    """Whether the keys are those of mmdet's/mmseg's Mask2Former (a
    ``query_feat`` on the head; their MaskFormer has none)."""
    return any(_head_prefix(k) and k[len(_head_prefix(k)):] ==
               'query_feat.weight' for k in state_dict)
