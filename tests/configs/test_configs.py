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
# the mmdet-path configs (panoptic, and instance trained directly) say so
# in their names
SEMANTIC = [c for c in CONFIGS if 'panoptic' not in osp.basename(c)
            and 'instance' not in osp.basename(c)]
PANOPTIC = [c for c in CONFIGS if c not in SEMANTIC]

# Modules reused on purpose: backbones, segmentor wrappers, data
# preprocessors and torch/mmcv/mmengine building blocks.
ALLOWED_PREFIXES = ('mmmaskformer.', 'torch.nn.', 'mmseg.models.backbones.',
                    'mmseg.models.segmentors.', 'mmseg.models.utils.',
                    'mmseg.models.data_preprocessor',
                    'mmdet.models.data_preprocessors.', 'mmdet.models.detectors.base',
                    'mmcv.cnn.', 'mmengine.model.', 'timm.',
                    # mmengine's SyncBatchNorm (trainable SyncBN configs)
                    'mmengine.utils.dl_utils.parrots_wrapper')


def build(path):
    cfg = Config.fromfile(path)
    init_default_scope(cfg.get('default_scope', 'mmmaskformer'))
    return cfg, MODELS.build(cfg.model)


def test_there_are_configs():
    """Every config is listed in the model zoo's metafiles (and the other
    way round), so none can be added or lost unnoticed."""
    import yaml
    listed = set()
    for meta in glob.glob(osp.join(REPO, 'configs', 'metafiles', '*.yaml')):
        with open(meta) as f:
            for model in yaml.safe_load(f)['Models']:
                listed.add(osp.basename(model['Config']))
    assert listed == {osp.basename(c) for c in CONFIGS}


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


@pytest.mark.slow  # a full-size Swin-L build
def test_swin_l_ade20k_parameters():
    _, model = build(osp.join(REPO, 'configs', 'maskformer_swin-l_ade20k.py'))
    n = sum(p.numel() for p in model.parameters())
    assert abs(n - 212e6) <= 0.01 * 212e6, n  # paper: 212M


def test_unprefixed_names_resolve_to_our_classes():
    from mmmaskformer.models import MaskFormerHead, MaskFormerHungarianAssigner, SetCriterion
    from mmmaskformer.registry import TASK_UTILS
    init_default_scope('mmmaskformer')
    assert MODELS.get('MaskFormerHead') is MaskFormerHead
    assert MODELS.get('SetCriterion') is SetCriterion
    # our criterion's focal/dice terms do not shadow mmdet's
    # FocalLoss/DiceLoss (other signatures): those names are not ours
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
    assert type(head.criterion) is SetCriterion
    assert type(head.criterion.assigner) is MaskFormerHungarianAssigner
    init_default_scope('mmmaskformer')


@pytest.mark.parametrize('path', SEMANTIC, ids=osp.basename)
def test_tta_wrapped_model_is_ours(path):
    """``--tta`` wraps the model in our MaskFormerTTAModel (the official
    merge), built here from inside mmseg's scope: the head must still be
    ours."""
    from mmmaskformer.models import Mask2FormerHead, MaskFormerHead
    from mmmaskformer.models.segmentors import MaskFormerTTAModel
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
        assert type(head) is (Mask2FormerHead if 'mask2former' in path
                              else MaskFormerHead)


def test_semantic_and_panoptic_share_head_matcher_and_criterion():
    """The paper's claim: one model, loss and training procedure for both
    tasks; only the targets and the post-processing differ."""
    from mmdet.structures import DetDataSample
    from mmengine.structures import InstanceData, PixelData
    from mmseg.structures import SegDataSample

    from mmmaskformer.models import (
        MaskFormerHead,
        MaskFormerHungarianAssigner,
        MaskFormerPanoptic,
        SetCriterion,
    )
    from mmmaskformer.models.segmentors import panoptic_targets
    pair = [osp.join(REPO, 'configs', c) for c in (
        'maskformer_r50_ade20k.py', 'maskformer_r50_coco-panoptic.py')]
    models, heads = [], []
    for path in pair:
        _, model = build(path)
        head = getattr(model, 'decode_head', None) or model.panoptic_head
        models.append(model.eval())  # no dropout: repeatable outputs
        heads.append(head)
        assert type(head) is MaskFormerHead
        assert type(head.criterion) is SetCriterion
        assert type(head.criterion.assigner) is MaskFormerHungarianAssigner
    semantic, panoptic = models
    assert isinstance(panoptic, MaskFormerPanoptic)
    # the same matching costs and loss weights (official: both tasks)
    criteria = [head.criterion for head in heads]
    assert vars(criteria[0].assigner) == vars(criteria[1].assigner)
    assert criteria[0].weights == criteria[1].weights == dict(
        loss_ce=1.0, loss_mask=20.0, loss_dice=1.0)
    assert [c.loss_cls.class_weight[-1].item() for c in criteria] == \
        [pytest.approx(0.1)] * 2
    # one loss path: each model's training loss is exactly its criterion on
    # its head's outputs and the task's targets, for every decoder layer
    torch.manual_seed(0)
    inputs = torch.randn(1, 3, 64, 64)
    gt = torch.zeros(64, 64, dtype=torch.long)
    gt[:, 40:] = 7
    gt[:8] = 255
    meta = dict(img_shape=(64, 64), pad_shape=(64, 64), ori_shape=(64, 64),
                batch_input_shape=(64, 64))
    seg = SegDataSample(metainfo=meta)
    seg.gt_sem_seg = PixelData(data=gt[None])
    det = DetDataSample(metainfo=meta)
    det.gt_instances = InstanceData(labels=torch.tensor([3]),
                                    masks=(gt == 0)[None])
    det.gt_sem_seg = PixelData(
        sem_seg=torch.where(gt == 7, 100, 255)[None])  # stuff class 100
    cases = [(semantic, heads[0], seg, heads[0].semantic_targets([seg])),
             (panoptic, heads[1], det,
              panoptic_targets([det], panoptic.num_things,
                               panoptic.num_classes))]
    for model, head, sample, targets in cases:
        assert [len(t.labels) for t in targets] == [2]
        with torch.no_grad():
            losses = model.loss(inputs, [sample])
            losses = {k.replace('decode.', ''): v for k, v in losses.items()}
            expected = head.criterion(*head(model.extract_feat(inputs)),
                                      targets)
        assert len(expected) == 3 * 6  # 3 terms x 6 decoder layers
        assert list(losses) == list(expected)
        for key, value in expected.items():
            assert torch.equal(losses[key], value), key


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
    assert opt.constructor == 'mmmaskformer.MaskFormerOptimWrapperConstructor'
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
        # an instance dataset (mmdet's CocoDataset) has things only
        meta = dict(DATASETS.get(dataset.type).METAINFO,
                    **dataset.get('metainfo', {}))
        things = meta.get('thing_classes', meta['classes'])
        labels = cfg.model.get('thing_classes')  # things not first
        if labels is None:  # things first
            assert cfg.model.num_things == len(things)
            assert list(meta['classes'][:len(things)]) == list(things)
        else:
            assert [meta['classes'][i] for i in labels] == list(things)


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
    assert [t.type for t in pipeline][-3:] == [
        'Pad', 'mmmaskformer.AddLabelLists', 'PackSegInputs']


def _typed_entries(node, key=''):
    """(key, entry) of every dict in a config that names a ``type``."""
    if isinstance(node, dict):
        if isinstance(node.get('type'), str):
            yield key, node
        for k, v in node.items():
            yield from _typed_entries(v, f'{key}.{k}' if key else str(k))
    elif isinstance(node, (list, tuple)):
        for i, v in enumerate(node):
            yield from _typed_entries(v, f'{key}[{i}]')


def _our_names():
    from mmengine.registry import Registry

    from mmmaskformer import registry as R
    return {name for reg in vars(R).values()
            if isinstance(reg, Registry) and reg.scope == R.SCOPE
            for name in reg.module_dict}


@pytest.mark.parametrize('path', CONFIGS, ids=osp.basename)
def test_every_type_names_the_class_that_is_built(path):
    """``type='mmmaskformer.X'`` is ours; any other name is never ours, so
    the ``_scope_`` that an ``mmseg::``/``mmdet::`` base stamps on an entry
    cannot swap one class for another of the same name."""
    cfg = Config.fromfile(path)
    ours = _our_names()
    entries = list(_typed_entries(cfg.to_dict()))
    assert len(entries) > 20, len(entries)
    named_ours = set()
    for key, entry in entries:
        name = entry['type']
        if name.startswith('mmmaskformer.'):
            assert name.split('.', 1)[1] in ours, (path, key, name)
            named_ours.add(name.split('.', 1)[1])
        else:
            assert name.split('.')[-1] not in ours, (path, key, name)
    for value in (cfg.optim_wrapper.get('constructor'), ):
        assert value is None or value.startswith('mmmaskformer.'), value
    # the run-level guarantees are ours in every paper config
    assert {'ResumableIterBasedTrainLoop', 'CheckedValLoop',
            'CheckedTestLoop', 'AtomicCheckpointHook',
            'PositionalInfiniteSampler'} <= named_ours, path
    assert {'FiniteLossOptimWrapper', 'FiniteLossAmpOptimWrapper',
            'MaskFormerOptimWrapperConstructor'} & named_ours, path


@pytest.mark.parametrize('path', CONFIGS, ids=osp.basename)
def test_runner_level_entries_build_our_classes(path):
    """Resolved the way the Runner resolves them (with the ``_scope_``
    stamps of inherited upstream bases)."""
    from mmmaskformer import registry as R
    cfg = Config.fromfile(path)
    init_default_scope(cfg.default_scope)

    def built(registry, entry):
        with registry.switch_scope_and_registry(
                entry.get('_scope_', cfg.default_scope)) as reg:
            return reg.get(entry['type'])

    checks = [(R.LOOPS, cfg.train_cfg), (R.LOOPS, cfg.val_cfg),
              (R.LOOPS, cfg.test_cfg),
              (R.HOOKS, cfg.default_hooks.checkpoint),
              (R.DATA_SAMPLERS, cfg.train_dataloader.sampler),
              (R.TRANSFORMS, cfg.train_dataloader.dataset.pipeline[0]),
              (R.TRANSFORMS, cfg.val_dataloader.dataset.pipeline[0])]
    for registry, entry in checks:
        cls = built(registry, entry)
        assert cls is not None and cls.__module__.startswith(
            'mmmaskformer.'), (entry, cls)


NAMED_AFTER_THE_PAPERS = {'MaskFormerHead', 'TransformerEncoderPixelDecoder',
                          'MSDeformAttnPixelDecoder',
                          'MultiScaleMaskedTransformerDecoder',
                          'Mask2FormerHead'}


def _upstream_names():
    import importlib

    from mmengine.registry import Registry
    names = set()
    for pkg in ('mmengine.registry', 'mmseg.registry', 'mmdet.registry'):
        for reg in vars(importlib.import_module(pkg)).values():
            if isinstance(reg, Registry):
                names.update(reg.module_dict)
    return names


def test_no_name_of_ours_shadows_an_upstream_name():
    """Only the model classes named after the papers share a name with an
    upstream class, and their docstrings say so."""
    import mmcv.transforms  # noqa: F401  (registers mmcv's transforms)
    import mmdet.datasets  # noqa: F401
    import mmdet.engine  # noqa: F401
    import mmdet.evaluation  # noqa: F401
    import mmdet.models  # noqa: F401
    import mmdet.visualization  # noqa: F401
    import mmengine.runner  # noqa: F401

    from mmmaskformer import registry as R
    upstream = _upstream_names()
    assert {'CheckpointHook', 'IterBasedTrainLoop', 'LoadImageFromFile',
            'LoadAnnotations', 'PackSegInputs', 'IoUMetric',
            'LoadPanopticAnnotations', 'PackDetInputs', 'HungarianAssigner',
            'CocoPanopticDataset', 'OptimWrapper', 'InfiniteSampler'
            } <= upstream  # the lookup sees every upstream registry
    shared = _our_names() & upstream
    assert shared <= NAMED_AFTER_THE_PAPERS, sorted(
        shared - NAMED_AFTER_THE_PAPERS)
    for name in shared:
        cls = R.MODELS.get(f'mmmaskformer.{name}')
        assert 'named after the paper' in ' '.join(
            (cls.__doc__ or '').split()).lower(), name
