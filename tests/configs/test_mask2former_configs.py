"""The Mask2Former demo configs: one head entry away from MaskFormer's, built
in our scope, and (slow) each task trains and scores through tools/train.py
and tools/test.py as fresh processes, the metric re-checked from the saved
predictions."""
import glob
import json
import os
import os.path as osp

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


def test_the_zoo_has_every_coco_and_ade20k_semantic_row():
    """Spec §6: 7 backbones x (COCO panoptic, COCO instance, ADE20K
    semantic)."""
    names = {osp.basename(p) for p in ZOO}
    backbones = ('r50', 'r101', 'swin-t', 'swin-s', 'swin-b', 'swin-b-in21k',
                 'swin-l')
    assert names == {f'mask2former_{b}_{d}.py' for b in backbones
                     for d in ('coco-panoptic', 'coco-instance', 'ade20k')}


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


@pytest.mark.parametrize('path', ZOO, ids=osp.basename)
def test_zoo_configs_carry_the_official_settings(path):
    name = osp.basename(path)
    cfg, model = build(path)
    head = getattr(model, 'decode_head', None) or model.panoptic_head
    decoder = head.transformer_decoder
    assert decoder.num_layers == 9  # DEC_LAYERS 10: 10 predictions
    swin_l_coco = 'swin-l' in name and 'coco' in name
    assert decoder.num_queries == (200 if swin_l_coco else 100)
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
    assert cfg.optim_wrapper.optimizer.weight_decay == 0.05
    assert cfg.optim_wrapper.paramwise_cfg.backbone_lr_mult == 0.1
    backbone_norms = [m for m in model.backbone.modules()
                      if isinstance(m, torch.nn.modules.batchnorm._BatchNorm)]
    if name == 'mask2former_r101_ade20k.py':  # trainable SyncBN
        assert all(isinstance(m, torch.nn.SyncBatchNorm)
                   and m.weight.requires_grad for m in backbone_norms)
    elif 'swin' not in name:  # FrozenBN
        assert backbone_norms and all(not m.weight.requires_grad
                                      for m in backbone_norms)
        assert model.backbone.norm_eval
    if 'ade20k' in name:
        assert head.num_classes == 150
        crop = 640 if any(b in name for b in ('swin-b', 'swin-l')) else 512
        assert tuple(cfg.crop_size) == (crop, crop)
        assert cfg.model.data_preprocessor.test_cfg.size_divisor == 32
        return
    assert model.data_preprocessor.pad_size_divisor == 32
    assert (model.test_cfg['object_mask_threshold'],
            model.test_cfg['overlap_threshold']) == (0.8, 0.8)
    assert model.test_cfg['max_per_image'] == 100
    panoptic = 'coco-panoptic' in name
    assert (model.num_things, head.num_classes) == \
        ((80, 133) if panoptic else (80, 80))
    assert (model.test_cfg['panoptic_on'], model.test_cfg['semantic_on'],
            model.test_cfg['instance_on']) == (panoptic, panoptic, True)
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


@pytest.mark.parametrize('name', ['mask2former_r50_ade20k.py',
                                  'mask2former_swin-t_coco-panoptic.py'])
def test_official_parameter_groups(name):
    """Backbone x0.1 (Swin too), no decay on norms and the nn.Embedding's,
    decay on the pixel decoder's level_embed Parameter (spec §5.1)."""
    from mmmaskformer.engine.optim_constructor import parameter_rules
    cfg, model = build(osp.join(REPO, 'configs', name))
    rules = parameter_rules(model, **cfg.optim_wrapper.paramwise_cfg)
    head = 'decode_head' if 'ade20k' in name else 'panoptic_head'
    assert rules[f'{head}.pixel_decoder.level_embed'] == (1.0, 1.0)
    for key in ('query_feat.weight', 'query_embed.weight',
                'level_embed.weight', 'decoder_norm.weight'):
        assert rules[f'{head}.transformer_decoder.{key}'] == (1.0, 0.0), key
    assert rules[f'{head}.transformer_decoder.cls_embed.bias'] == (1.0, 1.0)
    backbone = {k: v for k, v in rules.items() if k.startswith('backbone.')}
    assert backbone and all(lr == 0.1 for lr, _ in backbone.values())
    if 'swin' in name:
        assert rules['backbone.stages.0.blocks.0.norm1.weight'] == (0.1, 0.0)
        assert rules['backbone.stages.0.blocks.0.attn.w_msa.'
                     'relative_position_bias_table'] == (0.1, 0.0)
