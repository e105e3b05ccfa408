"""Every training config's real optimizer follows the official rules.

The official ``build_optimizer`` (train_net.py) gives each parameter the
base lr (x the backbone multiplier for modules named ``backbone``) and the
base weight decay, except zero decay for norm layers, ``nn.Embedding`` and
Swin's position tables. The reference below re-states those rules by
parameter kind, independently of our constructor, and every config's
optimizer is built through mmengine's constructor registry and compared,
parameter by parameter. The schedules and clipping the README states are
checked too.
"""
import copy
import glob
import os.path as osp

import pytest
import torch
from mmengine.config import Config
from mmengine.registry import OPTIM_WRAPPER_CONSTRUCTORS, init_default_scope
from torch import nn

import mmmaskformer  # noqa: F401
from mmmaskformer.registry import MODELS

REPO = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
CONFIGS = sorted(glob.glob(osp.join(REPO, 'configs', '*.py')))

NORMS = (nn.BatchNorm2d, nn.SyncBatchNorm, nn.GroupNorm, nn.LayerNorm,
         nn.InstanceNorm2d, nn.LocalResponseNorm)
POSITION_TABLES = ('relative_position_bias_table', 'absolute_pos_embed')


def official(stem):
    """(lr, weight decay, backbone multiplier, warm-up iters, max iters)."""
    if stem.startswith('maskformer_r18-tiny'):
        return 3e-4, 1e-4, 1.0, 0, 2000 if 'panoptic' in stem else 1500
    if stem.startswith('mask2former_r18-tiny'):  # Mask2Former's decay 0.05
        semantic = stem == 'mask2former_r18-tiny_synthetic-64x64'
        return 3e-4, 0.05, 1.0, 0, 1500 if semantic else 2000
    if stem.startswith('mask2former_'):  # every backbone alike, Swin too
        iters = 160000  # ADE20K
        if 'coco' in stem:
            iters = 737500 if stem.startswith('mask2former_swin-l') \
                else 368750
        elif 'cityscapes' in stem:
            iters = 90000
        elif 'mapillary' in stem:
            iters = 300000
        return 1e-4, 0.05, 0.1, 0, iters
    if stem == 'maskformer_r50_camvid':
        return 1e-4, 1e-4, 1.0, 0, 20000
    swin = 'swin' in stem or 'convnext' in stem  # the Swin optimizer
    lr, wd, mult = (6e-5, 0.01, 1.0) if swin else (1e-4, 1e-4, 0.1)
    warmup = 1500 if swin and 'panoptic' not in stem else 0
    if 'coco-panoptic' in stem:
        iters = 554400
    elif 'ade20k-panoptic' in stem:
        iters = 720000
    elif 'ade20k-full' in stem:
        iters = 200000
    elif 'coco-stuff10k' in stem:
        iters = 60000
    elif 'cityscapes' in stem:
        iters = 90000
    else:
        iters = 160000
    return lr, wd, mult, warmup, iters


def kind(module, name):
    if isinstance(module, NORMS):
        return 'norm'
    if isinstance(module, nn.Embedding) or name in POSITION_TABLES:
        return 'embedding'
    return 'rest'


def build_optimizer(cfg, model):
    ow = copy.deepcopy(cfg.optim_wrapper.to_dict())
    constructor = ow.pop('constructor', 'DefaultOptimWrapperConstructor')
    if 'Amp' in ow.get('type', '') and not torch.cuda.is_available():
        # mmengine's AmpOptimWrapper needs a GPU; the groups are the same
        ow['type'] = 'mmmaskformer.FiniteLossOptimWrapper'
        ow.pop('loss_scale', None)
    paramwise = ow.pop('paramwise_cfg', None)
    builder = OPTIM_WRAPPER_CONSTRUCTORS.build(
        dict(type=constructor, optim_wrapper_cfg=ow, paramwise_cfg=paramwise))
    return builder(model).optimizer


def mismatches(cfg, model, lr, wd, mult):
    """Parameters whose (lr, weight decay) differ from the official rule."""
    optimizer = build_optimizer(cfg, model)
    group_of = {}
    for g in optimizer.param_groups:
        for p in g['params']:
            group_of[id(p)] = (g['lr'], g['weight_decay'])
    bad, kinds = [], set()
    for module_name, module in model.named_modules():
        for name, p in module.named_parameters(recurse=False):
            if not p.requires_grad:
                continue
            k = kind(module, name)
            backbone = 'backbone' in module_name
            kinds.add((k, backbone))
            want = (lr * (mult if backbone else 1.0),
                    0.0 if k in ('norm', 'embedding') else wd)
            got = group_of.get(id(p))
            if got is None or abs(got[0] - want[0]) > 1e-12 * max(
                    1, want[0]) or abs(got[1] - want[1]) > 1e-12:
                bad.append((f'{module_name}.{name}', k, got, want))
    return bad, kinds


@pytest.mark.parametrize('path', CONFIGS, ids=osp.basename)
def test_parameter_groups_follow_the_official_rules(path):
    stem = osp.splitext(osp.basename(path))[0]
    cfg = Config.fromfile(path)
    init_default_scope(cfg.get('default_scope', 'mmmaskformer'))
    model = MODELS.build(cfg.model)
    lr, wd, mult, warmup, iters = official(stem)
    assert cfg.optim_wrapper.optimizer.type == 'AdamW'
    assert cfg.optim_wrapper.clip_grad == dict(max_norm=0.01, norm_type=2)
    if stem.startswith('mask2former_') and 'tiny' not in stem:  # official AMP
        assert cfg.optim_wrapper.type == 'mmmaskformer.FiniteLossAmpOptimWrapper'
    bad, kinds = mismatches(cfg, model, lr, wd, mult)
    assert not bad, bad[:5]
    if 'per-pixel' not in stem:  # the per-pixel baselines have no queries
        assert ('embedding', False) in kinds  # the query embedding
    assert ('rest', True) in kinds and ('rest', False) in kinds
    if 'swin' in stem or 'convnext' in stem:
        assert ('norm', True) in kinds  # trainable backbone norms
    # schedule
    assert cfg.train_cfg.max_iters == iters
    schedulers = cfg.param_scheduler
    main = schedulers[-1]
    if stem.startswith('mask2former_') and 'coco' in stem:
        assert main.type == 'MultiStepLR' and main.gamma == 0.1
        assert main.milestones == ([655556, 710184] if 'swin-l' in stem
                                   else [327778, 355092])
    elif 'coco-panoptic' in stem:
        assert main.type == 'MultiStepLR' and main.milestones == [369600]
        assert main.gamma == 0.1
    else:
        assert main.type == 'PolyLR' and main.power == 0.9
        assert main.end == iters and main.eta_min == 0
    if warmup:
        first = schedulers[0]
        assert first.type == 'LinearLR' and first.end == warmup
        assert first.start_factor == 1e-6
    else:
        assert len(schedulers) == 1


def test_the_custom_keys_bug_is_caught():
    """mmengine's constructor with custom_keys={'backbone': ...} (what the
    Swin schedules used) gives every backbone norm weight decay."""
    path = osp.join(REPO, 'configs', 'maskformer_swin-t_ade20k.py')
    cfg = Config.fromfile(path)
    init_default_scope('mmmaskformer')
    model = MODELS.build(cfg.model)
    cfg.optim_wrapper.pop('constructor')
    cfg.optim_wrapper.paramwise_cfg = dict(
        norm_decay_mult=0.0,
        custom_keys={'backbone': dict(lr_mult=1.0),
                     'query_embed': dict(decay_mult=0.0),
                     'relative_position_bias_table': dict(decay_mult=0.0),
                     'absolute_pos_embed': dict(decay_mult=0.0)})
    bad, _ = mismatches(cfg, model, 6e-5, 0.01, 1.0)
    assert bad and all(k == 'norm' and 'backbone' in n for n, k, _, _ in bad)
    assert all(got[1] == 0.01 for _, _, got, _ in bad)
