"""The Mask2Former demo configs: one head entry away from MaskFormer's, built
in our scope, and (slow) each task trains and scores through tools/train.py
and tools/test.py as fresh processes, the metric re-checked from the saved
predictions."""
import glob
import json
import os
import os.path as osp
import re

import cv2
import numpy as np
import pytest
import torch
from mmengine.config import Config
from mmengine.registry import init_default_scope

import mmmaskformer  # noqa: F401
from mmmaskformer.registry import MODELS

REPO = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
TINY = osp.join(REPO, 'configs', '{}_r18-tiny_synthetic{}-64x64.py')
SEMANTIC = TINY.format('mask2former', '')
PANOPTIC = TINY.format('mask2former', '-panoptic')
INSTANCE = TINY.format('mask2former', '-instance')


def build(path):
    cfg = Config.fromfile(path)
    init_default_scope(cfg.default_scope)
    return cfg, MODELS.build(cfg.model)


@pytest.mark.parametrize('task,head_key', [('', 'decode_head'),
                                           ('-panoptic', 'panoptic_head')])
def test_switching_model_is_the_head_entry(task, head_key):
    """Everything but the head, the weight decay (official 0.05) and the
    panoptic post-processing switches is MaskFormer's demo config."""
    ours = Config.fromfile(TINY.format('mask2former', task)).to_dict()
    base = Config.fromfile(TINY.format('maskformer', task)).to_dict()
    assert ours.pop('num_points') == 1024  # a variable of the head's entry
    assert ours['model'].pop(head_key)['type'] == \
        'mmmaskformer.Mask2FormerHead'
    assert base['model'].pop(head_key)['type'] == \
        'mmmaskformer.MaskFormerHead'
    assert ours['optim_wrapper']['optimizer'].pop('weight_decay') == 0.05
    base['optim_wrapper']['optimizer'].pop('weight_decay')
    if task:
        assert ours['model'].pop('test_cfg') == dict(
            object_mask_threshold=0.8, overlap_threshold=0.8,
            panoptic_on=True, semantic_on=True)
        base['model'].pop('test_cfg')
    assert ours == base


@pytest.mark.parametrize('path', [SEMANTIC, PANOPTIC, INSTANCE],
                         ids=osp.basename)
def test_tiny_configs_build_the_mask2former_modules(path):
    from mmmaskformer.models import (
        Mask2FormerCriterion,
        Mask2FormerHead,
        MaskFormerPanoptic,
        PointHungarianMatcher,
    )
    from mmmaskformer.models.pixel_decoders import MSDeformAttnPixelDecoder
    from mmmaskformer.models.transformer_decoders import MultiScaleMaskedTransformerDecoder
    cfg, model = build(path)
    head = getattr(model, 'decode_head', None) or model.panoptic_head
    assert type(head) is Mask2FormerHead
    assert type(head.pixel_decoder) is MSDeformAttnPixelDecoder
    assert type(head.transformer_decoder) is \
        MultiScaleMaskedTransformerDecoder
    assert type(head.criterion) is Mask2FormerCriterion
    assert type(head.criterion.matcher) is PointHungarianMatcher
    assert head.criterion.num_points == head.criterion.matcher.num_points \
        == 1024
    assert (head.criterion.matcher.cost_class, head.criterion.matcher.
            cost_mask, head.criterion.matcher.cost_dice) == (2.0, 5.0, 5.0)
    if path == INSTANCE:
        assert type(model) is MaskFormerPanoptic
        assert model.num_things == model.num_classes == 3
        assert model.test_cfg['panoptic_on'] is False
        assert cfg.train_dataloader.dataset.type == 'mmdet.CocoDataset'


@pytest.fixture(scope='module')
def data_root(tmp_path_factory):
    from mmmaskformer.datasets import generate_synthetic_dataset
    root = str(tmp_path_factory.mktemp('synthetic_m2f'))
    return generate_synthetic_dataset(root, num_train=6, num_val=3,
                                      progress=False)


def last_metrics(work_dir):
    files = sorted(glob.glob(osp.join(work_dir, '*', '*.json')),
                   key=os.path.getmtime)
    with open(files[-1]) as f:
        return json.load(f)


ITERS = 3


@pytest.mark.slow
def test_semantic_trains_and_scores_with_mmseg_iou(data_root, tmp_path,
                                                   run_tool, data_options):
    work = str(tmp_path / 'train')
    log = run_tool(['tools/train.py', SEMANTIC, '--work-dir', work,
                    '--cfg-options'] + data_options(data_root, ITERS))
    assert f'Iter(train) [{ITERS}/{ITERS}]' in log and 'mIoU' in log
    assert 'decode.loss_dice_2' in log  # every prediction supervised
    out, test_dir = str(tmp_path / 'out'), str(tmp_path / 'test')
    run_tool(['tools/test.py', SEMANTIC, osp.join(work, f'iter_{ITERS}.pth'),
              '--work-dir', test_dir, '--out', out, '--cfg-options'] +
             data_options(data_root, ITERS))
    reported = last_metrics(test_dir)['mIoU']
    # mIoU recomputed from the saved label maps (the classes with a
    # non-empty union, as mmseg's nan-mean)
    inter, union = np.zeros(6), np.zeros(6)
    names = sorted(os.listdir(osp.join(data_root, 'ann_dir', 'val')))
    assert sorted(os.listdir(out)) == names
    for name in names:
        gt = cv2.imread(osp.join(data_root, 'ann_dir', 'val', name),
                        cv2.IMREAD_UNCHANGED)
        pred = cv2.imread(osp.join(out, name), cv2.IMREAD_UNCHANGED)
        for c in range(6):
            inter[c] += ((gt == c) & (pred == c)).sum()
            union[c] += ((gt == c) | (pred == c)).sum()
    iou = inter[union > 0] / union[union > 0]
    assert abs(reported - 100 * iou.mean()) < 0.01, (reported, iou)


@pytest.mark.slow
def test_panoptic_trains_and_scores_with_coco_panoptic(
        data_root, tmp_path, run_tool, panoptic_options):
    from panopticapi.evaluation import pq_compute
    work = str(tmp_path / 'train')
    log = run_tool(['tools/train.py', PANOPTIC, '--work-dir', work] +
                   panoptic_options(data_root, ITERS))
    assert 'coco_panoptic/PQ' in log and 'loss_mask_2' in log
    out, test_dir = str(tmp_path / 'out'), str(tmp_path / 'test')
    run_tool(['tools/test.py', PANOPTIC, osp.join(work, f'iter_{ITERS}.pth'),
              '--work-dir', test_dir, '--out', out] +
             panoptic_options(data_root, ITERS))
    ours = last_metrics(test_dir)
    ref = pq_compute(osp.join(data_root, 'annotations', 'panoptic_val.json'),
                     osp.join(out, 'panoptic.panoptic.json'),
                     osp.join(data_root, 'annotations', 'panoptic_val'),
                     osp.join(out, 'panoptic.panoptic'))
    assert abs(ours['coco_panoptic/PQ'] - 100 * ref['All']['pq']) < 1e-3


def instance_options(root, iters, prefix=None):
    root = root.rstrip('/') + '/'
    opts = ['--cfg-options'] + [
        f'{d}.dataset.data_root={root}'
        for d in ('train_dataloader', 'val_dataloader', 'test_dataloader')
    ] + [
        f'{e}.ann_file={root}annotations/instances_val.json'
        for e in ('val_evaluator', 'test_evaluator')
    ] + [
        'train_dataloader.batch_size=2', 'train_dataloader.num_workers=0',
        'train_dataloader.persistent_workers=False',
        'val_dataloader.num_workers=0',
        'val_dataloader.persistent_workers=False',
        'test_dataloader.num_workers=0',
        'test_dataloader.persistent_workers=False',
        f'train_cfg.max_iters={iters}', f'train_cfg.val_interval={iters}',
        f'param_scheduler.0.end={iters}'
    ]
    if prefix:
        opts.append(f'test_evaluator.outfile_prefix={prefix}')
    return opts


@pytest.mark.slow
def test_instance_trains_and_scores_with_coco_segm(data_root, tmp_path,
                                                   run_tool):
    import contextlib
    import io

    from pycocotools.coco import COCO
    from pycocotools.cocoeval import COCOeval
    work = str(tmp_path / 'train')
    log = run_tool(['tools/train.py', INSTANCE, '--work-dir', work] +
                   instance_options(data_root, ITERS))
    assert 'coco/segm_mAP' in log and 'loss_dice_2' in log
    test_dir = str(tmp_path / 'test')
    prefix = str(tmp_path / 'results')
    run_tool(['tools/test.py', INSTANCE, osp.join(work, f'iter_{ITERS}.pth'),
              '--work-dir', test_dir] +
             instance_options(data_root, ITERS, prefix))
    reported = last_metrics(test_dir)['coco/segm_mAP']
    with open(prefix + '.segm.json') as f:
        results = json.load(f)
    # 3 val images x the top 100 of 20 queries x 3 classes = 60 pairs
    assert len(results) == 3 * 60
    with contextlib.redirect_stdout(io.StringIO()):
        gt = COCO(osp.join(data_root, 'annotations', 'instances_val.json'))
        ev = COCOeval(gt, gt.loadRes(results), 'segm')
        ev.evaluate()
        ev.accumulate()
        ev.summarize()
    assert abs(reported - round(ev.stats[0], 3)) < 1e-3, (reported,
                                                          ev.stats[0])


# ------------------------------------------------------------- model zoo
ZOO = sorted(p for p in glob.glob(osp.join(REPO, 'configs',
                                           'mask2former_*.py'))
             if 'tiny' not in p)


BACKBONES = ('r50', 'r101', 'swin-t', 'swin-s', 'swin-b', 'swin-b-in21k',
             'swin-l')
# spec §6: the official model zoo, 47 rows (video excluded)
OFFICIAL_ROWS = (
    [f'{b}_{d}' for b in BACKBONES
     for d in ('coco-panoptic', 'coco-instance', 'ade20k')] +
    [f'{b}_{d}' for b in ('r50', 'swin-l')
     for d in ('ade20k-panoptic', 'ade20k-instance', 'mapillary',
               'mapillary-panoptic')] +
    [f'{b}_{d}' for b in ('r50', 'r101', 'swin-t', 'swin-s', 'swin-b-in21k',
                          'swin-l')
     for d in ('cityscapes', 'cityscapes-panoptic', 'cityscapes-instance')])


def test_the_zoo_has_every_row_of_the_official_model_zoo():
    """Spec §6: 7 backbones x (COCO panoptic, COCO instance, ADE20K
    semantic), R50 and Swin-L x (ADE20K panoptic, ADE20K instance,
    Mapillary semantic, Mapillary panoptic), 6 backbones x Cityscapes
    (semantic, panoptic, instance): 47 configs."""
    names = {osp.basename(p) for p in ZOO}
    assert len(OFFICIAL_ROWS) == len(set(OFFICIAL_ROWS)) == 47
    assert names == {f'mask2former_{r}.py' for r in OFFICIAL_ROWS}


@pytest.mark.parametrize('name,params', [
    ('mask2former_r50_coco-panoptic.py', 44e6),  # paper: 44M
    ('mask2former_swin-l_coco-panoptic.py', 216e6),  # paper: 216M
])
def test_parameter_counts_match_the_paper(name, params):
    _, model = build(osp.join(REPO, 'configs', name))
    n = sum(p.numel() for p in model.parameters())
    assert abs(n - params) <= 0.01 * params, n


def test_r50_ade20k_module_sizes_match_the_official_constructors():
    """Spec §1.4: pixel decoder 6.04M for R50 inputs, transformer decoder
    14.50M for K = 150, Q = 100."""
    _, model = build(osp.join(REPO, 'configs', 'mask2former_r50_ade20k.py'))
    head = model.decode_head
    count = lambda m: sum(p.numel() for p in m.parameters())  # noqa: E731
    assert abs(count(head.pixel_decoder) - 6.04e6) < 0.005e6
    assert abs(count(head.transformer_decoder) - 14.50e6) < 0.005e6
    assert len(head.pixel_decoder.encoder.layers) == 6


# Official settings per family (spec §5.3): classes, thing labels (None:
# semantic), test outputs (panoptic, semantic, instance), thresholds, the
# schedule (iterations, LR policy) and the training crop.
CITYSCAPES_THINGS = tuple(range(11, 19))
MAPILLARY_THINGS = (0, 1, 8, 19, 20, 21, 22, 23, 32, 33, 34, 35, 36, 37, 38,
                    39, 40, 41, 42, 44, 45, 46, 47, 48, 49, 50, 51, 52, 53,
                    54, 55, 56, 57, 59, 60, 61, 62)
FAMILIES = {
    # dataset: (K, things, (P, S, I), thresholds, iters, policy, crop)
    'coco-panoptic': (133, tuple(range(80)), (True, True, True), (0.8, 0.8),
                      368750, 'MultiStepLR', (1024, 1024)),
    'coco-instance': (80, tuple(range(80)), (False, False, True), (0.8, 0.8),
                      368750, 'MultiStepLR', (1024, 1024)),
    'ade20k': (150, None, None, None, 160000, 'PolyLR', None),
    'ade20k-panoptic': (150, tuple(range(100)), (True, True, True),
                        (0.8, 0.8), 160000, 'PolyLR', (640, 640)),
    'ade20k-instance': (100, tuple(range(100)), (False, False, True),
                        (0.8, 0.8), 160000, 'PolyLR', (640, 640)),
    'cityscapes': (19, None, None, None, 90000, 'PolyLR', (512, 1024)),
    'cityscapes-panoptic': (19, CITYSCAPES_THINGS, (True, True, True),
                            (0.8, 0.8), 90000, 'PolyLR', (512, 1024)),
    'cityscapes-instance': (8, tuple(range(8)), (False, False, True),
                            (0.8, 0.8), 90000, 'PolyLR', (512, 1024)),
    'mapillary': (65, None, None, None, 300000, 'PolyLR', (1024, 1024)),
    'mapillary-panoptic': (65, MAPILLARY_THINGS, (True, True, False),
                           (0.0, 0.8), 300000, 'PolyLR', (1024, 1024)),
}
# 200 queries: Swin-L everywhere but the semantic rows (spec §5.3)
SWIN_L_200 = ('coco-panoptic', 'coco-instance', 'ade20k-panoptic',
              'ade20k-instance', 'cityscapes-panoptic', 'cityscapes-instance',
              'mapillary-panoptic')
# trainable SyncBN ResNets (official NORM "SyncBN"): ADE20K R101 and every
# Cityscapes ResNet; FrozenBN in every other ResNet row
SYNCBN = {'r101_ade20k'} | {f'{b}_{d}' for b in ('r50', 'r101') for d in (
    'cityscapes', 'cityscapes-panoptic', 'cityscapes-instance')}


def _train_crop(cfg):
    crops = [t for t in cfg.train_dataloader.dataset.pipeline
             if t['type'] in ('RandomCrop', 'mmdet.RandomCrop')]
    assert len(crops) == 1, crops
    return tuple(crops[0]['crop_size'])


@pytest.mark.parametrize('path', ZOO, ids=osp.basename)
def test_zoo_configs_carry_the_official_settings(path):
    name = osp.basename(path)
    row = name[len('mask2former_'):-len('.py')]
    backbone, dataset = row.split('_')
    classes, things, outputs, thresholds, iters, policy, crop = \
        FAMILIES[dataset]
    milestones = [327778, 355092]
    if backbone == 'swin-l' and dataset.startswith('coco'):  # 100 epochs
        iters, milestones = 737500, [655556, 710184]
    cfg, model = build(path)
    assert_official_parameter_groups(cfg, model, name)
    head = getattr(model, 'decode_head', None) or model.panoptic_head
    decoder = head.transformer_decoder
    assert decoder.num_layers == 9  # DEC_LAYERS 10: 10 predictions
    assert decoder.num_queries == (
        200 if backbone == 'swin-l' and dataset in SWIN_L_200 else 100)
    assert (decoder.hidden_dim, decoder.num_heads) == (256, 8)
    assert decoder.ffn_layers[0].linear1.out_features == 2048
    pixel = head.pixel_decoder
    assert (pixel.conv_dim, pixel.mask_dim) == (256, 256)
    assert pixel.encoder.layers[0].linear1.out_features == 1024
    criterion = head.criterion
    assert criterion.num_points == criterion.matcher.num_points == 12544
    assert (criterion.oversample_ratio,
            criterion.importance_sample_ratio) == (3.0, 0.75)
    assert criterion.weights == dict(loss_ce=2.0, loss_mask=5.0,
                                     loss_dice=5.0)
    assert float(criterion.loss_cls.class_weight[-1]) == pytest.approx(0.1)
    assert cfg.optim_wrapper.type == 'mmmaskformer.FiniteLossAmpOptimWrapper'
    assert cfg.optim_wrapper.optimizer.lr == 1e-4
    assert cfg.optim_wrapper.optimizer.weight_decay == 0.05
    assert cfg.optim_wrapper.clip_grad.max_norm == 0.01
    assert cfg.optim_wrapper.paramwise_cfg.backbone_lr_mult == 0.1
    assert cfg.train_cfg.max_iters == iters
    assert cfg.auto_scale_lr.base_batch_size == 16
    (sched, ) = cfg.param_scheduler
    assert sched.type == policy and sched.end == iters
    if policy == 'PolyLR':
        assert (sched.power, sched.eta_min) == (0.9, 0)
    else:
        assert (sched.milestones, sched.gamma) == (milestones, 0.1)
    backbone_norms = [m for m in model.backbone.modules()
                      if isinstance(m, torch.nn.modules.batchnorm._BatchNorm)]
    if row in SYNCBN:
        assert backbone_norms and all(
            isinstance(m, torch.nn.SyncBatchNorm) and m.weight.requires_grad
            for m in backbone_norms)
        assert not model.backbone.norm_eval
    elif 'swin' not in backbone:  # FrozenBN
        assert backbone_norms and all(not m.weight.requires_grad
                                      for m in backbone_norms)
        assert model.backbone.norm_eval
    assert head.num_classes == classes
    if things is None:  # semantic (mmseg's EncoderDecoder)
        if dataset == 'ade20k':
            crop = (640, 640) if backbone in ('swin-b', 'swin-b-in21k',
                                              'swin-l') else (512, 512)
        assert tuple(cfg.crop_size) == _train_crop(cfg) == crop
        size = tuple(model.data_preprocessor.size)
        if dataset == 'ade20k':  # padded to the crop in the pipeline; the
            # base's (512, 512) then pads nothing more at 640
            assert all(s <= c for s, c in zip(size, crop))
        else:
            assert size == crop
        assert cfg.model.data_preprocessor.test_cfg.size_divisor == 32
        return
    assert model.thing_classes == things
    assert model.data_preprocessor.pad_size_divisor == 32
    assert (model.test_cfg['object_mask_threshold'],
            model.test_cfg['overlap_threshold']) == thresholds
    assert model.test_cfg['max_per_image'] == 100
    assert (model.test_cfg['panoptic_on'], model.test_cfg['semantic_on'],
            model.test_cfg['instance_on']) == outputs
    assert _train_crop(cfg) == crop
    if dataset.startswith('coco'):
        panoptic = dataset == 'coco-panoptic'
        lsj = [t['type'] for t in cfg.train_dataloader.dataset.pipeline
               if t['type'].startswith(('mmdet.Random', 'mmdet.Filter',
                                        'mmdet.Pad'))]
        assert lsj == ['mmdet.RandomFlip', 'mmdet.RandomResize',
                       'mmdet.RandomCrop'] + ([] if panoptic else [
                           'mmdet.FilterAnnotations']) + ['mmdet.Pad']


def test_lsj_pads_the_raw_image_with_128_to_1024():
    """Official FixedSizeCrop: pad to exactly 1024x1024 with 128 (image,
    before normalisation) and the ignore label (labels)."""
    from mmengine.dataset import Compose
    cfg = Config.fromfile(osp.join(REPO, 'configs',
                                   'mask2former_r50_coco-panoptic.py'))
    init_default_scope('mmmaskformer')
    steps = [t for t in cfg.train_dataloader.dataset.pipeline
             if t['type'] in ('mmdet.RandomResize', 'mmdet.RandomCrop',
                              'mmdet.Pad')]
    assert [t['type'] for t in steps] == ['mmdet.RandomResize',
                                          'mmdet.RandomCrop', 'mmdet.Pad']
    assert steps[0]['ratio_range'] == (0.1, 2.0)
    jitter, pad = Compose(steps[:2]), Compose(steps[2:])
    for seed in range(3):
        np.random.seed(seed)
        out = jitter(dict(img=np.zeros((300, 500, 3), np.uint8),
                          img_shape=(300, 500), ori_shape=(300, 500),
                          gt_seg_map=np.zeros((300, 500), np.uint8),
                          seg_fields=['gt_seg_map']))
        h, w = out['img'].shape[:2]
        out = pad(out)
        assert out['img'].shape == (1024, 1024, 3)
        # 0.1..2.0 of 1024 on the long side (500), cropped to 1024
        assert 0.1 * 1024 - 1 <= max(h, w) <= 1024
        assert (out['img'][:h, :w] == 0).all()
        assert (out['img'][h:] == 128).all() and \
            (out['img'][:, w:] == 128).all()
        assert (out['gt_seg_map'][:h, :w] == 0).all()
        assert (out['gt_seg_map'][h:] == 255).all()


def assert_official_parameter_groups(cfg, model, name):
    """Backbone x0.1 (Swin too), no decay on norms and the nn.Embedding's,
    decay on the pixel decoder's level_embed Parameter (spec §5.1)."""
    from mmmaskformer.engine.optim_constructor import parameter_rules
    rules = parameter_rules(model, **cfg.optim_wrapper.paramwise_cfg)
    head = 'decode_head' if hasattr(model, 'decode_head') else \
        'panoptic_head'
    assert rules[f'{head}.pixel_decoder.level_embed'] == (1.0, 1.0)
    for key in ('query_feat.weight', 'query_embed.weight',
                'level_embed.weight', 'decoder_norm.weight'):
        assert rules[f'{head}.transformer_decoder.{key}'] == (1.0, 0.0), key
    assert rules[f'{head}.transformer_decoder.cls_embed.bias'] == (1.0, 1.0)
    backbone = {k: v for k, v in rules.items() if k.startswith('backbone.')}
    assert backbone and all(lr == 0.1 for lr, _ in backbone.values())
    row = name[len('mask2former_'):-len('.py')]
    if row in SYNCBN:  # trainable SyncBN: x0.1, no decay
        assert rules['backbone.bn1.weight'] == (0.1, 0.0)
        assert rules['backbone.layer1.0.bn1.bias'] == (0.1, 0.0)
    elif 'swin' not in name:  # FrozenBN: no trainable norm parameter
        assert 'backbone.bn1.weight' not in rules
    if 'swin' in name:
        assert rules['backbone.stages.0.blocks.0.norm1.weight'] == (0.1, 0.0)
        assert rules['backbone.stages.0.blocks.0.attn.w_msa.'
                     'relative_position_bias_table'] == (0.1, 0.0)


# every zoo config is checked by test_zoo_configs_carry_the_official_settings
# (one build each); here one per family and norm kind
@pytest.mark.parametrize('name', [
    'mask2former_r50_ade20k.py', 'mask2former_swin-t_coco-panoptic.py',
    'mask2former_r50_cityscapes.py', 'mask2former_swin-t_cityscapes-instance.py',
    'mask2former_r101_cityscapes-panoptic.py',
    'mask2former_swin-l_ade20k-panoptic.py',
    'mask2former_r50_mapillary-panoptic.py'])
def test_official_parameter_groups(name):
    cfg, model = build(osp.join(REPO, 'configs', name))
    assert_official_parameter_groups(cfg, model, name)


# ------------------------------------------- the new datasets' label spaces
def _loaders_only(pipeline):
    """The loading/packing steps of a training pipeline (no random
    geometry or colour), for checking labels on a generated copy."""
    random = ('RandomChoiceResize', 'mmdet.RandomCrop', 'RandomCrop',
              'mmdet.PhotoMetricDistortion', 'PhotoMetricDistortion',
              'mmdet.RandomFlip', 'RandomFlip', 'mmdet.Pad', 'Pad')
    return [t for t in pipeline if t['type'] not in random]


def test_panoptic_metainfo_names_the_official_classes_and_things():
    """Cityscapes: the 19 evaluated classes in labels.py order (mmseg's
    names), things 11-18; Mapillary: mmseg's 65 names (Unlabeled dropped),
    the 37 things of the official panoptic metadata. The model's
    thing_classes are the labels of the metainfo's thing names."""
    from mmseg.datasets import CityscapesDataset, MapillaryDataset_v1
    for name, names, n_things in [
            ('mask2former_r50_cityscapes-panoptic.py',
             CityscapesDataset.METAINFO['classes'], 8),
            ('mask2former_r50_mapillary-panoptic.py',
             MapillaryDataset_v1.METAINFO['classes'][:65], 37)]:
        cfg = Config.fromfile(osp.join(REPO, 'configs', name))
        meta = cfg.train_dataloader.dataset.metainfo
        assert tuple(meta['classes']) == tuple(names)
        assert cfg.val_dataloader.dataset.metainfo == meta
        things = cfg.model.thing_classes
        assert len(things) == len(meta['thing_classes']) == n_things
        assert [meta['classes'][i] for i in things] == \
            list(meta['thing_classes'])
        assert sorted(meta['stuff_classes'] + meta['thing_classes']) == \
            sorted(meta['classes'])
        assert len(meta['palette']) == len(meta['classes'])
    assert 'Car' in meta['thing_classes'] and 'Person' in meta['thing_classes']
    assert 'Road' in meta['stuff_classes'] and 'Pothole' in \
        meta['stuff_classes']  # an instance class, not a panoptic thing
    semantic = Config.fromfile(
        osp.join(REPO, 'configs', 'mask2former_r50_mapillary.py'))
    assert semantic.train_dataloader.dataset.metainfo.classes == \
        meta['classes']


def _write_png(path, array):
    from PIL import Image
    os.makedirs(osp.dirname(path), exist_ok=True)
    Image.fromarray(array).save(path)


# cityscapesscripts' labels.py, the evaluated classes: (id, name, isthing)
CITYSCAPES_LABELS = [
    (7, 'road', 0), (8, 'sidewalk', 0), (11, 'building', 0), (12, 'wall', 0),
    (13, 'fence', 0), (17, 'pole', 0), (19, 'traffic light', 0),
    (20, 'traffic sign', 0), (21, 'vegetation', 0), (22, 'terrain', 0),
    (23, 'sky', 0), (24, 'person', 1), (25, 'rider', 1), (26, 'car', 1),
    (27, 'truck', 1), (28, 'bus', 1), (31, 'train', 1), (32, 'motorcycle', 1),
    (33, 'bicycle', 1)]


def _cityscapes_panoptic_copy(root):
    """One 64x128 image in the layout and format of cityscapesscripts'
    createPanopticImgs.py (label ids; segment id = label id for stuff and
    crowd, label id * 1000 + k for an instance; colour [id % 256, id // 256,
    id // 65536]). Returns the segment ids (H, W)."""
    city = osp.join(root, 'data', 'cityscapes')
    stem = 'aachen_000000_000019'
    _write_png(osp.join(city, 'leftImg8bit', 'train', 'aachen',
                        f'{stem}_leftImg8bit.png'),
               np.full((64, 128, 3), 90, np.uint8))
    ids = np.zeros((64, 128), np.int64)  # 0: VOID
    ids[40:] = 7  # road
    ids[:20] = 23  # sky
    ids[25:40, 10:50] = 26001  # a car
    ids[25:40, 60:70] = 24  # a crowd of persons
    ids[25:40, 80:100] = 24002  # a person
    segments = []
    for sid in np.unique(ids):
        if sid == 0:
            continue
        ys, xs = np.nonzero(ids == sid)
        label = sid // 1000 if sid >= 1000 else sid
        segments.append(dict(
            id=int(sid), category_id=int(label), area=int(len(ys)),
            bbox=[int(xs.min()), int(ys.min()), int(np.ptp(xs) + 1),
                  int(np.ptp(ys) + 1)],
            iscrowd=int(sid < 1000 and label >= 24)))
    rgb = np.stack([ids % 256, ids // 256, ids // 65536], -1).astype(np.uint8)
    _write_png(osp.join(city, 'gtFine', 'cityscapes_panoptic_train',
                        f'{stem}_gtFine_panoptic.png'), rgb)
    ann = dict(
        images=[dict(id=stem, width=128, height=64,
                     file_name=f'{stem}_leftImg8bit.png')],
        annotations=[dict(image_id=stem, file_name=f'{stem}_gtFine_panoptic.png',
                          segments_info=segments)],
        categories=[dict(id=i, name=n, isthing=t, color=[0, 0, 0],
                         supercategory='x') for i, n, t in CITYSCAPES_LABELS])
    with open(osp.join(city, 'gtFine', 'cityscapes_panoptic_train.json'),
              'w') as f:
        json.dump(ann, f)
    return ids


def _documented_link_command():
    with open(osp.join(REPO, 'docs', 'configs.md'), encoding='utf-8') as f:
        text = f.read()
    (command, ) = re.findall(r'<!-- cityscapes-panoptic-links -->`([^`]+)`',
                             text)
    return command


def test_cityscapes_panoptic_layout_gives_the_official_labels(tmp_path):
    """The documented links make cityscapesscripts' files readable by the
    config's dataset; labels follow the JSON's (official contiguous) order,
    whatever the order of the metainfo's classes, so the things are 11-18
    and the model's thing_classes pick exactly the thing instances."""
    import subprocess

    from mmmaskformer.models.segmentors.panoptic_targets import panoptic_targets
    from mmmaskformer.registry import DATASETS
    ids = _cityscapes_panoptic_copy(str(tmp_path))
    subprocess.run(['bash', '-c', _documented_link_command()],
                   cwd=str(tmp_path), check=True, timeout=60)
    cfg = Config.fromfile(osp.join(REPO, 'configs',
                                   'mask2former_r50_cityscapes-panoptic.py'))
    init_default_scope('mmmaskformer')
    ds_cfg = cfg.train_dataloader.dataset
    ds_cfg.data_root = str(tmp_path / 'data' / 'cityscapes') + '/'
    ds_cfg.pipeline = _loaders_only(ds_cfg.pipeline)
    samples = []
    for metainfo in (ds_cfg.metainfo, dict(  # things listed first
            ds_cfg.metainfo, classes=ds_cfg.metainfo['classes'][11:] +
            ds_cfg.metainfo['classes'][:11])):
        dataset = DATASETS.build(dict(ds_cfg, metainfo=metainfo))
        assert len(dataset) == 1
        samples.append(dataset[0]['data_samples'])
    for sample in samples:
        sem = sample.gt_sem_seg.sem_seg[0].numpy()
        # road 0, sky 10, crowd persons keep their label 11, car 13, VOID 255
        expected = np.full(ids.shape, 255)
        for sid, label in [(7, 0), (23, 10), (24, 11), (26001, 13),
                           (24002, 11)]:
            expected[ids == sid] = label
        assert (sem == expected).all()
        labels = sample.gt_instances.labels.tolist()
        assert sorted(labels) == [11, 13]  # the person and the car
    targets = panoptic_targets([samples[0]], cfg.model.thing_classes, 19)
    (target, ) = targets
    got = sorted(zip(target.labels.tolist(),
                     [m.sum().item() for m in target.masks]))
    # the two instances and the stuff present; the crowd is background
    assert got == sorted([(11, int((ids == 24002).sum())),
                          (13, int((ids == 26001).sum())),
                          (0, int((ids == 7).sum())),
                          (10, int((ids == 23).sum()))])
    # as things-first labels (num_things=8) the car would be refused
    with pytest.raises(ValueError, match='not all thing classes'):
        panoptic_targets([samples[0]], 8, 19)


def test_mapillary_unlabeled_becomes_the_ignore_index(tmp_path):
    """mmseg's MapillaryDataset_v1 with the 65 names: stored value 65
    (Unlabeled, the official IGNORE_VALUE) is loaded as 255, 0-64 stay."""
    from PIL import Image

    from mmmaskformer.registry import DATASETS
    root = tmp_path / 'data' / 'mapillary'
    _write_png(str(root / 'training' / 'images' / 'k.png'),
               np.full((8, 8, 3), 90, np.uint8))
    os.rename(root / 'training' / 'images' / 'k.png',
              root / 'training' / 'images' / 'k.jpg')
    label = np.zeros((8, 8), np.uint8)
    label[:, 2:4], label[:, 4:6], label[:, 6:] = 13, 64, 65
    img = Image.fromarray(label, mode='P')  # the release's palette PNGs
    img.putpalette(list(range(256)) * 3)
    os.makedirs(root / 'training' / 'v1.2' / 'labels')
    img.save(root / 'training' / 'v1.2' / 'labels' / 'k.png')
    cfg = Config.fromfile(osp.join(REPO, 'configs',
                                   'mask2former_r50_mapillary.py'))
    init_default_scope('mmmaskformer')
    ds_cfg = cfg.train_dataloader.dataset
    ds_cfg.data_root = str(root) + '/'
    ds_cfg.pipeline = [t for t in ds_cfg.pipeline if 'Load' in t['type']]
    dataset = DATASETS.build(ds_cfg)
    out = dataset[0]['gt_seg_map']
    assert out[0].tolist() == [0, 0, 13, 13, 64, 64, 255, 255]
    assert cfg.model.decode_head.num_classes == 65
    assert cfg.model.decode_head.ignore_index == 255
