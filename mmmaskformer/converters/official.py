"""Official (detectron2) MaskFormer checkpoint keys -> mmmaskformer keys.

Accepts both layouts of the official head:

* released / old (v1): ``sem_seg_head.adapter_1.weight`` ...
* current (v2):        ``sem_seg_head.pixel_decoder.adapter_1.weight`` ...

the detectron2 ResNet backbone (``backbone.stem.conv1`` ...,
``backbone.res{2..5}``) in its plain and DeepLab (three-conv stem) forms,
mapped to mmseg's ``ResNet``/``ResNetV1c``, and the official Swin backbone
(``backbone.patch_embed``, ``backbone.layers.{i}``, ``backbone.norm{i}``)
mapped to mmseg's ``SwinTransformer``. Every source key is either mapped
or checked and consumed (``criterion.empty_weight``), or is a buffer that
the model computes itself and is dropped with a logged note (the
``attn_mask`` that Swin's original code saves); anything else raises.
"""
import re
from typing import Dict, List, Mapping, Optional, Tuple

import numpy as np
import torch
from mmengine.logging import print_log

_PIXEL_DECODER_RULES: List[Tuple[str, str]] = [
    (r'adapter_(\d+)\.weight', 'lateral_convs.{n1}.conv.weight'),
    (r'adapter_(\d+)\.bias', 'lateral_convs.{n1}.conv.bias'),
    (r'adapter_(\d+)\.norm\.(weight|bias)', 'lateral_convs.{n1}.norm.{g2}'),
    (r'layer_(\d+)\.weight', 'output_convs.{n1}.conv.weight'),
    (r'layer_(\d+)\.bias', 'output_convs.{n1}.conv.bias'),
    (r'layer_(\d+)\.norm\.(weight|bias)', 'output_convs.{n1}.norm.{g2}'),
    (r'mask_features\.(weight|bias)', 'mask_feature.{g1}'),
    (r'input_proj\.(weight|bias)', 'input_proj.{g1}'),
    (r'transformer\.encoder\.(.+)', 'encoder.{g1}'),
]

_PREDICTOR_RULES: List[Tuple[str, str]] = [
    (r'query_embed\.weight', 'transformer_decoder.query_embed.weight'),
    (r'input_proj\.(weight|bias)', 'transformer_decoder.input_proj.{g1}'),
    (r'transformer\.encoder\.(.+)', 'transformer_decoder.encoder.{g1}'),
    (r'transformer\.decoder\.norm\.(weight|bias)',
     'transformer_decoder.decoder.post_norm.{g1}'),
    (r'transformer\.decoder\.layers\.(\d+)\.multihead_attn\.(.+)',
     'transformer_decoder.decoder.layers.{g1}.cross_attn.{g2}'),
    (r'transformer\.decoder\.layers\.(\d+)\.(.+)',
     'transformer_decoder.decoder.layers.{g1}.{g2}'),
    (r'class_embed\.(weight|bias)', 'cls_embed.{g1}'),
    (r'mask_embed\.layers\.(\d+)\.(weight|bias)', 'mask_embed.layers.{g1}.{g2}'),
]

_BN = r'(weight|bias|running_mean|running_var)'
_RESNET_RULES: List[Tuple[str, str]] = [
    (r'stem\.conv1\.weight', 'conv1.weight'),  # plain stem
    (r'stem\.conv1\.norm\.' + _BN, 'bn1.{g1}'),
    (r'res(\d)\.(\d+)\.conv(\d)\.weight', 'layer{s}.{g2}.conv{g3}.weight'),
    (r'res(\d)\.(\d+)\.conv(\d)\.norm\.' + _BN, 'layer{s}.{g2}.bn{g3}.{g4}'),
    (r'res(\d)\.(\d+)\.shortcut\.weight', 'layer{s}.{g2}.downsample.0.weight'),
    (r'res(\d)\.(\d+)\.shortcut\.norm\.' + _BN,
     'layer{s}.{g2}.downsample.1.{g3}'),
]
# DeepLab stem (R101c): three 3x3 convs -> mmseg ResNetV1c ``stem`` Sequential
_DEEP_STEM_RULES: List[Tuple[str, str]] = [
    (r'stem\.conv(\d)\.weight', 'stem.{c}.weight'),
    (r'stem\.conv(\d)\.norm\.' + _BN, 'stem.{n}.{g2}'),
]


# official Swin (D2SwinTransformer) -> mmseg SwinTransformer
_SWIN_RULES: List[Tuple[str, str]] = [
    (r'patch_embed\.proj\.(weight|bias)', 'patch_embed.projection.{g1}'),
    (r'patch_embed\.norm\.(weight|bias)', 'patch_embed.norm.{g1}'),
    (r'layers\.(\d+)\.blocks\.(\d+)\.attn\.(.+)',
     'stages.{g1}.blocks.{g2}.attn.w_msa.{g3}'),
    (r'layers\.(\d+)\.blocks\.(\d+)\.mlp\.fc1\.(weight|bias)',
     'stages.{g1}.blocks.{g2}.ffn.layers.0.0.{g3}'),
    (r'layers\.(\d+)\.blocks\.(\d+)\.mlp\.fc2\.(weight|bias)',
     'stages.{g1}.blocks.{g2}.ffn.layers.1.{g3}'),
    (r'layers\.(\d+)\.blocks\.(\d+)\.(norm\d)\.(weight|bias)',
     'stages.{g1}.blocks.{g2}.{g3}.{g4}'),
    (r'layers\.(\d+)\.downsample\.(reduction|norm)\.(weight|bias)',
     'stages.{g1}.downsample.{g2}.{g3}'),
    (r'norm(\d)\.(weight|bias)', 'norm{g1}.{g2}'),
    (r'absolute_pos_embed', 'absolute_pos_embed'),
]


#: non-learnable buffers of Swin's original code that mmseg's Swin computes
#: itself (the shifted-window mask is built in the forward pass)
_SWIN_RECOMPUTED = r'layers\.\d+\.blocks\.\d+\.attn_mask'


def _swin_unfold_order(key: str, value: torch.Tensor) -> torch.Tensor:
    """Patch merging concatenates the 2x2 neighbours as (0,0), (1,0), (0,1),
    (1,1) in the official code and in ``nn.Unfold`` order (0,0), (0,1), (1,0),
    (1,1), channel-interleaved, in mmseg: permute the reduction's input
    channels and the norm's channels (as mmseg's swin2mmseg converter)."""
    if '.downsample.reduction.' in key:
        out_c, in_c = value.shape
        return value.reshape(out_c, 4, in_c // 4)[:, [0, 2, 1, 3], :] \
            .transpose(1, 2).reshape(out_c, in_c)
    if '.downsample.norm.' in key:
        c = value.shape[0]
        return value.reshape(4, c // 4)[[0, 2, 1, 3], :].transpose(
            0, 1).reshape(c)
    return value


def _apply(rules, key: str) -> Optional[str]:
    for pattern, template in rules:
        m = re.fullmatch(pattern, key)
        if m is None:
            continue
        g = m.groups()
        fields = {f'g{i + 1}': v for i, v in enumerate(g)}
        if '{n1}' in template:
            fields['n1'] = int(g[0]) - 1  # official index 1 = res2 = our 0
        if '{s}' in template:
            fields['s'] = int(g[0]) - 1  # res2 -> layer1
        if '{c}' in template:
            fields['c'] = (int(g[0]) - 1) * 3  # conv k -> stem.{3(k-1)}
        if '{n}' in template:
            fields['n'] = (int(g[0]) - 1) * 3 + 1  # norm k -> stem.{3(k-1)+1}
        return template.format(**fields)
    return None


def _to_tensor(v) -> torch.Tensor:
    if isinstance(v, np.ndarray):
        return torch.from_numpy(np.ascontiguousarray(v))
    return torch.as_tensor(v)


def convert_official_state_dict(
        state_dict: Mapping[str, object],
        head_prefix: str = 'decode_head.',
        backbone_prefix: str = 'backbone.',
        no_object_weight: Optional[float] = 0.1) -> Dict[str, torch.Tensor]:
    """Map an official MaskFormer state dict to ours.

    Args:
        state_dict: official keys to tensors or numpy arrays (a released
            ``.pkl``'s ``"model"`` entry, or ``model.state_dict()``).
        head_prefix: our head's prefix (``decode_head.`` in the semantic
            ``EncoderDecoder``, ``panoptic_head.`` in ``MaskFormerPanoptic``).
        backbone_prefix: our backbone's prefix.
        no_object_weight: checked against ``criterion.empty_weight[-1]``
            when that key is present (``None`` skips the check).

    Raises:
        KeyError: a key that no rule consumes (names every such key).
    """
    deep_stem = any(k.startswith('backbone.stem.conv2') for k in state_dict)
    swin = any(k.startswith('backbone.patch_embed.') for k in state_dict)
    out: Dict[str, torch.Tensor] = {}
    unknown, recomputed = [], []
    for key, value in state_dict.items():
        new = None
        if key.startswith('sem_seg_head.predictor.'):
            new = _apply(_PREDICTOR_RULES, key[len('sem_seg_head.predictor.'):])
            new = new and head_prefix + new
        elif key.startswith('sem_seg_head.'):
            rest = key[len('sem_seg_head.'):]
            if rest.startswith('pixel_decoder.'):
                rest = rest[len('pixel_decoder.'):]
            new = _apply(_PIXEL_DECODER_RULES, rest)
            new = new and head_prefix + 'pixel_decoder.' + new
        elif key.startswith('backbone.'):
            rest = key[len('backbone.'):]
            if swin and re.fullmatch(_SWIN_RECOMPUTED, rest):
                recomputed.append(key)
                continue
            if swin:
                rules = _SWIN_RULES
            elif deep_stem:
                rules = _DEEP_STEM_RULES + _RESNET_RULES[2:]
            else:
                rules = _RESNET_RULES
            new = _apply(rules, rest)
            if new is not None and swin:
                value = _swin_unfold_order(new, _to_tensor(value))
            new = new and backbone_prefix + new
        elif key == 'criterion.empty_weight':
            w = _to_tensor(value)
            if no_object_weight is not None and not torch.allclose(
                    w[-1], torch.tensor(float(no_object_weight))):
                raise ValueError(
                    f'criterion.empty_weight[-1] = {float(w[-1])} but the '
                    f'config uses no_object_weight={no_object_weight}')
            continue
        elif key in ('pixel_mean', 'pixel_std'):
            continue  # the data preprocessor normalises
        if new is None:
            unknown.append(key)
            continue
        out[new] = _to_tensor(value)
    if unknown:
        raise KeyError('official keys with no mapping: ' + ', '.join(unknown))
    if recomputed:
        print_log(f'dropped {len(recomputed)} Swin attn_mask buffers (not '
                  'learned; the model builds the shifted-window mask itself): '
                  + ', '.join(recomputed), logger='current')
    # mmseg's BatchNorm2d layers carry a counter the d2 FrozenBN lacks
    for key in list(out):
        if key.startswith(backbone_prefix) and key.endswith('.running_var'):
            out[key[:-len('running_var')] + 'num_batches_tracked'] = \
                torch.tensor(0, dtype=torch.long)
    return out


def convert_backbone_weights(state_dict: Mapping[str, object]
                             ) -> Tuple[Dict[str, torch.Tensor], List[str]]:
    """ImageNet backbone weights -> mmseg backbone keys (for ``init_cfg``).

    Accepts torchvision ResNets (mmseg's ``ResNet`` uses the same names),
    detectron2 ResNets (``R-50.pkl``, DeepLab ``R-103.pkl``: ``stem.*``,
    ``res{2..5}.*``) and the official Swin checkpoints (``patch_embed``,
    ``layers.{i}``). Returns the converted dict (no ``backbone.`` prefix) and
    the source keys that were dropped on purpose: classifier heads
    (``fc.*``, ``head.*``), Swin's final ImageNet ``norm.*`` (MaskFormer
    has a fresh ``norm{i}`` per output instead) and the ``attn_mask``
    buffers that Swin's original code saves (not learned: mmseg's Swin
    builds the shifted-window mask in its forward pass). Any other key that
    no rule maps is refused (``KeyError`` naming it).
    """
    dropped = [k for k in state_dict
               if k.split('.')[0] in ('fc', 'head', 'norm')
               or re.fullmatch(_SWIN_RECOMPUTED, k)]
    src = {k: v for k, v in state_dict.items() if k not in dropped}
    if any(k.startswith(('stem.', 'res2.')) for k in src) or \
            any(k.startswith('patch_embed.') for k in src):
        conv = convert_official_state_dict(
            {'backbone.' + k: v for k, v in src.items()})
        out = {k[len('backbone.'):]: v for k, v in conv.items()}
    else:  # torchvision: mmseg's ResNet keys already
        unknown = [k for k in src if not re.match(
            r'(conv1|bn1|layer\d)\.', k)]
        if unknown:
            raise KeyError('unrecognised backbone keys: ' +
                           ', '.join(unknown[:10]))
        out = {k: _to_tensor(v) for k, v in src.items()}
    return out, dropped
