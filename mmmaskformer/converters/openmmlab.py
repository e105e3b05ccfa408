"""Checkpoints of the MaskFormer inside mmseg (semantic, ``decode_head.``)
and mmdet (panoptic, ``panoptic_head.``) <-> ours.

Both packages build their head from mmdet's ``MaskFormerHead``; ours keeps
the official module names (``FPNPixelDecoder.output_convs``, torch's
``nn.MultiheadAttention`` inside ``self_attn``, ``linear1``/``norm1``
...). Backbones are the same code on both sides (mmseg's/mmdet's
``ResNet``, ``SwinTransformer``): their keys pass through unchanged.

Used by ``tools/convert_mmseg_checkpoint.py`` (theirs -> ours) and by the
A/B harness ``tools/analysis/benchmark_train.py`` (ours -> theirs, to give
both sides the same weights).
"""
import re
from typing import Callable, List, Mapping, Tuple, Union

HEAD_PREFIXES = ('decode_head.', 'panoptic_head.')

Rule = Tuple[str, Union[str, Callable]]

# (regex, replacement) applied in order to the key inside the head
_OURS_TO_MM: List[Rule] = [
    (r'^pixel_decoder\.output_convs\.3\.', 'pixel_decoder.last_feat_conv.'),
    (r'^(pixel_decoder\.(?!encoder\.).*)\.norm\.', r'\1.gn.'),
    (r'^transformer_decoder\.decoder\.layers\.', 'transformer_decoder.layers.'),
    (r'^transformer_decoder\.decoder\.post_norm\.',
     'transformer_decoder.post_norm.'),
    (r'^transformer_decoder\.input_proj\.', 'decoder_input_proj.'),
    (r'^transformer_decoder\.query_embed\.', 'query_embed.'),
    (r'^mask_embed\.layers\.(\d+)\.',
     lambda m: f'mask_embed.{2 * int(m.group(1))}.'),
]
# inside a transformer layer (decoder, or the encoder pixel decoder's)
_OURS_TO_MM_LAYER: List[Rule] = [
    (r'\.self_attn\.', '.self_attn.attn.'),
    (r'\.cross_attn\.', '.cross_attn.attn.'),
    (r'\.linear1\.', '.ffn.layers.0.0.'),
    (r'\.linear2\.', '.ffn.layers.1.'),
    (r'\.norm([123])\.', lambda m: f'.norms.{int(m.group(1)) - 1}.'),
]
# mmdet's TransformerEncoderPixelDecoder names our `input_proj` and last
# output conv after its encoder
_OURS_TO_MM_ENCODER: List[Rule] = [
    (r'^pixel_decoder\.input_proj\.', 'pixel_decoder.encoder_in_proj.'),
    (r'^pixel_decoder\.output_convs\.3\.', 'pixel_decoder.encoder_out_proj.'),
]
_MM_TO_OURS: List[Rule] = [
    (r'^pixel_decoder\.encoder_in_proj\.', 'pixel_decoder.input_proj.'),
    (r'^pixel_decoder\.encoder_out_proj\.', 'pixel_decoder.output_convs.3.'),
    (r'^pixel_decoder\.last_feat_conv\.', 'pixel_decoder.output_convs.3.'),
    (r'^(pixel_decoder\.(?!encoder\.).*)\.gn\.', r'\1.norm.'),
    (r'^transformer_decoder\.layers\.', 'transformer_decoder.decoder.layers.'),
    (r'^transformer_decoder\.post_norm\.',
     'transformer_decoder.decoder.post_norm.'),
    (r'^decoder_input_proj\.', 'transformer_decoder.input_proj.'),
    (r'^query_embed\.', 'transformer_decoder.query_embed.'),
    (r'^mask_embed\.(\d+)\.',
     lambda m: f'mask_embed.layers.{int(m.group(1)) // 2}.'),
]
_MM_TO_OURS_LAYER: List[Rule] = [
    (r'\.self_attn\.attn\.', '.self_attn.'),
    (r'\.cross_attn\.attn\.', '.cross_attn.'),
    (r'\.ffn\.layers\.0\.0\.', '.linear1.'),
    (r'\.ffn\.layers\.1\.', '.linear2.'),
    (r'\.norms\.(\d)\.', lambda m: f'.norm{int(m.group(1)) + 1}.'),
]
_LAYER = re.compile(r'(^transformer_decoder\.|^pixel_decoder\.encoder\.)')


def _map_key(key: str, rules: List[Rule], layer_rules: List[Rule]) -> str:
    for prefix in HEAD_PREFIXES:
        if key.startswith(prefix):
            break
    else:  # backbone, data preprocessor ...: the same code on both sides
        return key
    inner = key[len(prefix):]
    for pattern, repl in rules:
        inner = re.sub(pattern, repl, inner)
    if _LAYER.match(inner) or _LAYER.match(key[len(prefix):]):
        for pattern, repl in layer_rules:
            inner = re.sub(pattern, repl, inner)
    return prefix + inner


def ours_to_openmmlab(state_dict: Mapping) -> dict:
    """Our keys -> mmdet ``MaskFormerHead`` keys (mmseg's and mmdet's)."""
    rules = _OURS_TO_MM
    if any('.pixel_decoder.encoder.' in k for k in state_dict):
        rules = _OURS_TO_MM_ENCODER + rules
    return {_map_key(k, rules, _OURS_TO_MM_LAYER): v
            for k, v in state_dict.items()}


def openmmlab_to_ours(state_dict: Mapping) -> dict:
    """mmseg's/mmdet's MaskFormer keys -> ours (``num_batches_tracked`` and
    other buffers included; nothing is dropped)."""
    return {_map_key(k, _MM_TO_OURS, _MM_TO_OURS_LAYER): v
            for k, v in state_dict.items()}
