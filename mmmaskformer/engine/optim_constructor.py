"""The official MaskFormer parameter groups (``build_optimizer`` of the
official ``train_net.py``), as an mmengine optimizer-wrapper constructor.

For every trainable parameter, by the module that owns it:

* lr x ``backbone_lr_mult`` when the module's name contains ``backbone``
  (0.1 for ResNet, 1.0 for Swin);
* weight decay x ``norm_decay_mult`` (0) for the parameters of norm layers
  (BatchNorm, SyncBN, GroupNorm, InstanceNorm, LayerNorm, LocalResponseNorm);
* weight decay x ``embed_decay_mult`` (0) for ``nn.Embedding`` (the query
  embedding);
* weight decay 0 for parameters whose name contains one of
  ``no_decay_keys`` (Swin's ``relative_position_bias_table`` and
  ``absolute_pos_embed``, timm's ``pos_embed``/``cls_token``);
* the optimizer's lr and weight decay otherwise (biases included).

The rules combine: a backbone norm gets the backbone lr *and* no decay.
mmengine's ``DefaultOptimWrapperConstructor`` cannot say that: a parameter
that matches a ``custom_keys`` entry skips ``norm_decay_mult``, so
``custom_keys={'backbone': ...}`` gives every backbone norm weight decay.
Frozen parameters (``requires_grad=False``) are left out, as officially.
"""
from typing import Dict, List, Tuple

from mmengine.optim import DefaultOptimWrapperConstructor
from torch import nn
from torch.nn.modules.batchnorm import _BatchNorm
from torch.nn.modules.instancenorm import _InstanceNorm

from mmmaskformer.registry import OPTIM_WRAPPER_CONSTRUCTORS

NORM_TYPES = (_BatchNorm, nn.GroupNorm, _InstanceNorm, nn.LayerNorm,
              nn.LocalResponseNorm)
DEFAULTS = dict(backbone_lr_mult=1.0, norm_decay_mult=0.0,
                embed_decay_mult=0.0,
                no_decay_keys=('relative_position_bias_table',
                               'absolute_pos_embed', 'pos_embed',
                               'cls_token'))


def is_norm(module: nn.Module) -> bool:
    if isinstance(module, NORM_TYPES):
        return True
    # timm / mmcv norms not derived from torch's (e.g. LayerNorm2d is)
    return type(module).__name__ in ('FrozenBatchNorm2d', 'LayerNorm2d')


def parameter_rules(model: nn.Module, **cfg) -> Dict[str, Tuple[float, float]]:
    """``name -> (lr_mult, decay_mult)`` for every trainable parameter."""
    cfg = dict(DEFAULTS, **cfg)
    rules = {}
    for module_name, module in model.named_modules():
        for name, param in module.named_parameters(recurse=False):
            if not param.requires_grad:
                continue
            full = f'{module_name}.{name}' if module_name else name
            if full in rules:  # shared parameter: first owner wins
                continue
            lr_mult = cfg['backbone_lr_mult'] \
                if 'backbone' in module_name else 1.0
            decay_mult = 1.0
            if any(k in name for k in cfg['no_decay_keys']):
                decay_mult = 0.0
            if is_norm(module):
                decay_mult = cfg['norm_decay_mult']
            if isinstance(module, nn.Embedding):
                decay_mult = cfg['embed_decay_mult']
            rules[full] = (lr_mult, decay_mult)
    return rules


@OPTIM_WRAPPER_CONSTRUCTORS.register_module()
class MaskFormerOptimWrapperConstructor(DefaultOptimWrapperConstructor):
    """See the module docstring. ``paramwise_cfg`` keys:
    ``backbone_lr_mult`` (1.0), ``norm_decay_mult`` (0.0),
    ``embed_decay_mult`` (0.0), ``no_decay_keys``."""

    def __init__(self, optim_wrapper_cfg: dict, paramwise_cfg=None):
        paramwise_cfg = dict(paramwise_cfg or {})
        unknown = sorted(set(paramwise_cfg) - set(DEFAULTS))
        if unknown:
            raise KeyError(
                f'MaskFormerOptimWrapperConstructor: unknown paramwise_cfg '
                f'keys {unknown}; expected some of {sorted(DEFAULTS)}')
        # always paramwise: pass a non-empty dict to the base class
        super().__init__(optim_wrapper_cfg, dict(DEFAULTS, **paramwise_cfg))
        self.rules_cfg = dict(DEFAULTS, **paramwise_cfg)

    def _validate_cfg(self) -> None:
        pass  # our keys are checked in __init__

    def add_params(self, params: List[dict], module: nn.Module,
                   prefix: str = '', is_dcn_module=None) -> None:
        named = dict(module.named_parameters())
        groups: Dict[Tuple[float, float], List] = {}
        for name, (lr_mult, decay_mult) in parameter_rules(
                module, **self.rules_cfg).items():
            groups.setdefault((lr_mult, decay_mult), []).append(named[name])
        base_wd = self.base_wd or 0.0
        for (lr_mult, decay_mult), group in sorted(groups.items()):
            params.append(dict(params=group, lr=self.base_lr * lr_mult,
                               weight_decay=base_wd * decay_mult))
