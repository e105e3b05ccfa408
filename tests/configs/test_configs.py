"""Every config in configs/ parses and builds; the model is ours."""
import glob
import os.path as osp

import pytest
import torch
from mmengine.config import Config
from mmengine.registry import init_default_scope

import mmmaskformer  # noqa: F401
from mmmaskformer.registry import MODELS

REPO = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
CONFIGS = sorted(glob.glob(osp.join(REPO, 'configs', '*.py')))
SEMANTIC = [c for c in CONFIGS if 'panoptic' not in osp.basename(c)]
PANOPTIC = [c for c in CONFIGS if 'panoptic' in osp.basename(c)]

# Modules reused on purpose: backbones, segmentor wrappers, data
# preprocessors and torch/mmcv/mmengine building blocks.
ALLOWED_PREFIXES = ('mmmaskformer.', 'torch.nn.', 'mmseg.models.backbones.',
                    'mmseg.models.segmentors.', 'mmseg.models.utils.',
                    'mmseg.models.data_preprocessor',
                    'mmdet.models.data_preprocessors.', 'mmdet.models.detectors.base',
                    'mmcv.cnn.', 'mmengine.model.', 'timm.')


def build(path):
    cfg = Config.fromfile(path)
    init_default_scope(cfg.get('default_scope', 'mmmaskformer'))
    return cfg, MODELS.build(cfg.model)


def test_there_are_configs():
    assert len(CONFIGS) >= 3


@pytest.mark.parametrize('path', CONFIGS, ids=osp.basename)
def test_config_builds_our_model(path):
    cfg, model = build(path)
    assert cfg.default_scope == 'mmmaskformer'
    foreign = sorted({
        type(m).__module__ + '.' + type(m).__name__
        for m in model.modules()
        if not type(m).__module__.startswith(ALLOWED_PREFIXES)
    })
    assert not foreign, foreign
    peers = [
        type(m).__module__ for m in model.modules()
        if 'maskformer' in type(m).__module__.lower()
        and not type(m).__module__.startswith('mmmaskformer.')
    ]
    assert not peers, peers


def test_r50_ade20k_parameters_and_shapes():
    _, model = build(osp.join(REPO, 'configs', 'maskformer_r50_ade20k.py'))
    n = sum(p.numel() for p in model.parameters())
    assert abs(n - 41.3e6) <= 0.2e6, n  # paper: 41M
    model.eval()
    with torch.no_grad():
        out = model.decode_head(model.extract_feat(torch.randn(1, 3, 512,
                                                               512)))
    assert out.cls_logits[-1].shape == (1, 100, 151)
    assert out.mask_logits[-1].shape == (1, 100, 128, 128)
    assert out.cls_logits.shape[0] == 6  # 6 decoder layers, deep supervision


def test_swin_l_ade20k_parameters():
    _, model = build(osp.join(REPO, 'configs', 'maskformer_swin-l_ade20k.py'))
    n = sum(p.numel() for p in model.parameters())
    assert abs(n - 212e6) <= 0.01 * 212e6, n  # paper: 212M


def test_unprefixed_names_resolve_to_our_classes():
    from mmmaskformer.models import (MaskFormerHungarianAssigner, MaskFormerHead,
                                     MaskFocalLoss)
    from mmmaskformer.registry import TASK_UTILS
    init_default_scope('mmmaskformer')
    assert MODELS.get('MaskFormerHead') is MaskFormerHead
    assert MODELS.get('MaskFocalLoss') is MaskFocalLoss
    # our mask losses do not shadow mmdet's FocalLoss/DiceLoss (other
    # signatures): those names are not ours
    assert not any(MODELS.get(n).__module__.startswith('mmmaskformer')
                   for n in ('FocalLoss', 'DiceLoss') if MODELS.get(n))
    assert TASK_UTILS.get('MaskFormerHungarianAssigner') is MaskFormerHungarianAssigner
    # even while another package's scope is the default one
    init_default_scope('mmseg')
    head = MODELS.build(
        dict(type='MaskFormerHead', _scope_='mmmaskformer', num_classes=2,
             in_channels=[8, 8, 8, 8],
             pixel_decoder=dict(type='FPNPixelDecoder', conv_dim=32,
                                mask_dim=32),
             transformer_decoder=dict(type='DETRTransformerDecoder',
                                      hidden_dim=32, num_queries=3,
                                      num_heads=2, num_layers=1)))
    assert type(head.criterion.assigner) is MaskFormerHungarianAssigner
    assert type(head.criterion.loss_mask) is MaskFocalLoss
    init_default_scope('mmmaskformer')


@pytest.mark.parametrize('path', SEMANTIC, ids=osp.basename)
def test_tta_wrapped_model_is_ours(path):
    """``--tta`` wraps the model in our MaskFormerTTAModel (the official
    merge), built here from inside mmseg's scope: the head must still be
    ours."""
    from mmmaskformer.models.segmentors import MaskFormerTTAModel
    from mmmaskformer.models import MaskFormerHead
    cfg = Config.fromfile(path)
    assert 'tta_model' in cfg, 'every config supports tools/test.py --tta'
    tta = cfg.tta_model
    tta.module = cfg.model
    init_default_scope('mmseg')
    try:
        model = MODELS.build(tta)
    finally:
        init_default_scope('mmmaskformer')
    assert type(model) is MaskFormerTTAModel
    head = model.module.decode_head
    assert type(head).__module__.startswith('mmmaskformer.'), type(head)
    if 'per-pixel' not in path:
        assert type(head) is MaskFormerHead


def test_semantic_and_panoptic_share_head_matcher_and_criterion():
    """The paper's claim: one model, loss and training procedure for both
    tasks; only the targets and the post-processing differ."""
    from mmmaskformer.models import (MaskFormerHungarianAssigner, MaskFormerHead,
                                     MaskFormerPanoptic, SetCriterion)
    pair = [osp.join(REPO, 'configs', c) for c in (
        'maskformer_r50_ade20k.py', 'maskformer_r50_coco-panoptic.py')]
    heads = []
    for path in pair:
        _, model = build(path)
        head = getattr(model, 'decode_head', None) or model.panoptic_head
        heads.append(head)
        assert type(head) is MaskFormerHead
        assert type(head.criterion) is SetCriterion
        assert type(head.criterion.assigner) is MaskFormerHungarianAssigner
    assert isinstance(build(pair[1])[1], MaskFormerPanoptic)
    # one code path: the panoptic model calls the same loss entry point
    assert MaskFormerPanoptic.loss.__code__.co_names.count('loss_by_targets')


@pytest.mark.parametrize('path', CONFIGS, ids=osp.basename)
def test_pipelines_and_evaluators_resolve(path):
    """Every transform, dataset type and metric named by a config exists in
    the scope the Runner builds it in."""
    from mmengine.dataset import Compose
    from mmmaskformer.registry import DATASETS, METRICS
    cfg = Config.fromfile(path)
    init_default_scope(cfg.default_scope)
    for loader in ('train_dataloader', 'val_dataloader', 'test_dataloader'):
        dataset = cfg[loader].dataset
        Compose(dataset.pipeline)
        assert DATASETS.get(dataset.type) is not None, dataset.type
    if 'tta_pipeline' in cfg:
        Compose(cfg.tta_pipeline)
    for evaluator in (cfg.val_evaluator, cfg.test_evaluator):
        assert METRICS.get(evaluator.type) is not None, evaluator.type


PANOPTIC_SETTINGS = {
    # config: (params M, things, classes, thresholds, lr, backbone lr mult)
    'maskformer_r50_coco-panoptic.py': (45, 80, 133, (0.8, 0.8), 1e-4, 0.1),
    'maskformer_r101_coco-panoptic.py': (64, 80, 133, (0.8, 0.8), 1e-4, 0.1),
    'maskformer_swin-l_coco-panoptic.py':
    (212, 80, 133, (0.8, 0.8), 6e-5, 1.0),
    'maskformer_r50_ade20k-panoptic.py':
    (45, 100, 150, (0.7, 0.8), 1e-4, 0.1),
}


@pytest.mark.parametrize('name', sorted(PANOPTIC_SETTINGS))
def test_panoptic_configs_carry_official_settings(name):
    params, things, classes, thr, lr, backbone_mult = PANOPTIC_SETTINGS[name]
    cfg, model = build(osp.join(REPO, 'configs', name))
    n = sum(p.numel() for p in model.parameters()) / 1e6
    assert abs(n - params) <= 0.02 * params, n  # paper Table 3 / Table 1
    assert model.num_things == things and model.num_classes == classes
    assert (model.test_cfg['object_mask_threshold'],
            model.test_cfg['overlap_threshold']) == thr
    opt = cfg.optim_wrapper
    assert opt.optimizer.lr == lr
    assert opt.clip_grad.max_norm == 0.01
    assert opt.constructor == 'MaskFormerOptimWrapperConstructor'
    assert opt.paramwise_cfg.backbone_lr_mult == backbone_mult
    if 'coco' in name:
        assert cfg.train_cfg.max_iters == 554400
        (step, ) = cfg.param_scheduler
        assert step.type == 'MultiStepLR' and step.milestones == [369600]
        assert step.gamma == 0.1
        # batch 64 = 64 GPUs x 1 image (official)
        assert cfg.auto_scale_lr.base_batch_size == 64
    else:
        assert cfg.train_cfg.max_iters == 720000
        (poly, ) = cfg.param_scheduler
        assert poly.type == 'PolyLR' and poly.power == 0.9
    encoder = 'swin' not in name  # "+6 Enc" for R50/R101
    decoder = model.panoptic_head.pixel_decoder
    assert (type(decoder).__name__ == 'TransformerEncoderPixelDecoder') == \
        encoder
    if encoder:
        assert len(decoder.encoder.layers) == 6


@pytest.mark.parametrize('path', CONFIGS, ids=osp.basename)
def test_num_classes_match_the_dataset(path):
    from mmmaskformer.registry import DATASETS
    cfg = Config.fromfile(path)
    init_default_scope(cfg.default_scope)
    dataset = cfg.train_dataloader.dataset
    classes = dataset.get('metainfo', {}).get('classes') or \
        DATASETS.get(dataset.type).METAINFO['classes']
    head = cfg.model.get('decode_head') or cfg.model.panoptic_head
    assert head.num_classes == len(classes)
    if 'panoptic_head' in cfg.model:
        things = DATASETS.get(dataset.type).METAINFO['thing_classes']
        assert cfg.model.num_things == len(things)


@pytest.mark.parametrize('name', [
    'maskformer_r50_ade20k.py', 'maskformer_swin-l_ade20k.py',
    'maskformer_r50_coco-stuff10k.py'
])
def test_train_images_are_padded_like_the_official_mapper(name):
    """Pad to exactly the crop with 128 (image) and ignore (labels)."""
    import numpy as np
    from mmengine.dataset import Compose
    cfg = Config.fromfile(osp.join(REPO, 'configs', name))
    init_default_scope('mmmaskformer')
    pipeline = cfg.train_dataloader.dataset.pipeline
    pad = Compose([t for t in pipeline if t.type == 'Pad'])
    h, w = cfg.crop_size
    out = pad(dict(img=np.zeros((h - 7, w - 5, 3), np.uint8),
                   gt_seg_map=np.zeros((h - 7, w - 5), np.uint8),
                   seg_fields=['gt_seg_map']))
    assert out['img'].shape[:2] == (h, w)
    assert (out['img'][h - 7:] == 128).all() and (out['img'][:, w - 5:] ==
                                                  128).all()
    assert (out['gt_seg_map'][h - 7:] == 255).all()
    assert [t.type for t in pipeline][-2:] == ['Pad', 'PackSegInputs']


def _built_class(registry, entry, scope):
    with registry.switch_scope_and_registry(scope) as reg:
        return reg.get(entry['type'])


@pytest.mark.parametrize('path', CONFIGS, ids=osp.basename)
def test_every_entry_builds_in_our_scope(path):
    """No config sends a type past ours to another package's class of the
    same name. A `mmseg::`/`mmdet::` base stamps `_scope_` on what it
    defines: it made the paper configs build mmengine's loops and
    CheckpointHook, mmseg's loaders and IoUMetric (no bad-sample policy, no
    exact resume, 16-bit labels wrapped)."""
    from mmmaskformer.utils.tool_config import _typed_entries, scope_overrides
    cfg = Config.fromfile(path)
    assert scope_overrides(cfg) == []
    built = {key: _built_class(registry, entry, scope)
             for key, registry, entry, scope in _typed_entries(cfg)
             if isinstance(entry.get('type'), str)}
    for key in ('train_cfg', 'val_cfg', 'test_cfg',
                'default_hooks.checkpoint', 'train_dataloader.sampler',
                'train_dataloader.dataset.pipeline[0]',
                'val_dataloader.dataset.pipeline[0]'):
        assert built[key].__module__.startswith('mmmaskformer.'), \
            (key, built[key])
    loaders = [cls.__name__ for key, cls in built.items()
               if key.startswith('train_dataloader.dataset.pipeline')]
    if path in SEMANTIC:
        assert 'LoadAnnotations' in loaders and 'PackSegInputs' in loaders
        for key in ('val_evaluator', 'test_evaluator'):
            assert built[key].__module__ == 'mmmaskformer.evaluation.iou_metric'
    for key, cls in built.items():
        if cls.__name__ in ('LoadAnnotations', 'PackSegInputs',
                            'LoadImageFromFile', 'LoadPanopticAnnotations',
                            'PackDetInputs', 'CheckpointHook'):
            assert cls.__module__.startswith('mmmaskformer.'), (key, cls)


def test_an_inherited_mmseg_base_is_named(tmp_path):
    """A user config that inherits mmseg's dataset base gets one warning per
    entry that would build mmseg's class instead of ours."""
    from mmmaskformer.utils.tool_config import load_tool_config
    user = tmp_path / 'my_config.py'
    user.write_text(
        f"_base_ = ['mmseg::_base_/datasets/ade20k.py',\n"
        f"          '{REPO}/configs/_base_/default_runtime.py',\n"
        f"          '{REPO}/configs/_base_/schedules/schedule_160k_adamw.py']\n")
    messages = []
    import mmengine.logging
    orig = mmengine.logging.print_log
    mmengine.logging.print_log = lambda msg, **kw: messages.append(msg)
    try:
        cfg = load_tool_config(str(user), work_dir=str(tmp_path))
    finally:
        mmengine.logging.print_log = orig
    from mmmaskformer.utils.tool_config import scope_overrides
    found = {(key, name) for key, name, *_ in scope_overrides(cfg)}
    assert found == {
        ('train_dataloader.sampler', 'InfiniteSampler'),
        ('train_dataloader.dataset.pipeline[0]', 'LoadImageFromFile'),
        ('train_dataloader.dataset.pipeline[1]', 'LoadAnnotations'),
        ('train_dataloader.dataset.pipeline[6]', 'PackSegInputs'),
        ('val_dataloader.dataset.pipeline[0]', 'LoadImageFromFile'),
        ('val_dataloader.dataset.pipeline[2]', 'LoadAnnotations'),
        ('val_dataloader.dataset.pipeline[3]', 'PackSegInputs'),
        ('test_dataloader.dataset.pipeline[0]', 'LoadImageFromFile'),
        ('test_dataloader.dataset.pipeline[2]', 'LoadAnnotations'),
        ('test_dataloader.dataset.pipeline[3]', 'PackSegInputs'),
        ('val_evaluator', 'IoUMetric'), ('test_evaluator', 'IoUMetric')}
    messages = [m for m in messages if m.startswith('config entry')]
    assert len(messages) == len(found)
    assert any('`train_dataloader.dataset.pipeline[1]` (LoadAnnotations) '
               "carries _scope_='mmseg'" in m and
               'mmseg.datasets.transforms.loading.LoadAnnotations' in m
               for m in messages), messages
