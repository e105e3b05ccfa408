"""The two models of the A/B benchmark, at equal weights, and their inputs.

Ours is built from our config, the baseline from mmseg's own MaskFormer
config as installed with mmseg; both with a :class:`~.probes.MatchingProbe`
in place of their assigner, FrozenBN ResNet (or the Swin backbone) without
pretrained weights, and the data preprocessor padding to the benchmark's
size. The baseline then receives our weights through the key map of
``mmmaskformer/converters/openmmlab.py`` (the backbone is the same mmseg
code on both sides), and both get the same batch.

``--model swin-l``: mmseg ships Swin-T/S MaskFormer configs only, so the
baseline is its Swin-S config given Swin-L's backbone.

``--model mask2former-r50``: our ``configs/mask2former_r50_coco-panoptic.py``
against mmdet's own ``mask2former_r50_8xb2-lsj-50e_coco-panoptic.py`` (133
classes, things first, 100 queries, FrozenBN on both sides, mmdet's LSJ
batch padding to 1024 removed so that both see the benchmark size), our
weights copied through ``mmmaskformer/converters/mmdet_mask2former.py``,
and a panoptic batch (:func:`make_panoptic_batch`).
"""
import os.path as osp
from typing import NamedTuple, Optional

import torch
from mmengine.config import Config
from mmengine.model import revert_sync_batchnorm
from mmengine.registry import DefaultScope
from mmengine.structures import PixelData
from mmseg.structures import SegDataSample

from mmmaskformer.converters import ours_to_mmdet_mask2former, ours_to_openmmlab
from mmmaskformer.registry import MODELS

from .probes import probe_config

REPO = osp.dirname(osp.dirname(osp.dirname(osp.dirname(
    osp.abspath(__file__)))))
OURS_CONFIGS = {
    'r50': osp.join(REPO, 'configs', 'maskformer_r50_ade20k.py'),
    'swin-l': osp.join(REPO, 'configs', 'maskformer_swin-l_ade20k.py'),
    'mask2former-r50': osp.join(REPO, 'configs',
                                'mask2former_r50_coco-panoptic.py'),
}
BASELINE_CONFIGS = {
    'r50': 'maskformer_r50-d32_8xb2-160k_ade20k-512x512.py',
    'swin-l': 'maskformer_swin-s_upernet_8xb2-160k_ade20k-512x512.py',
    'mask2former-r50': 'mask2former_r50_8xb2-lsj-50e_coco-panoptic.py',
}
# the models whose baseline is mmdet's Mask2Former (panoptic)
MASK2FORMER_MODELS = ('mask2former-r50', )
SWIN_L = dict(pretrain_img_size=384, embed_dims=192, window_size=12,
              depths=[2, 2, 18, 2], num_heads=[6, 12, 24, 48],
              drop_path_rate=0.3)
NUM_CLASSES = 150  # ADE20K, both configs
COCO_THINGS, COCO_CLASSES = 80, 133  # COCO panoptic, things first


class ModelPair(NamedTuple):
    ours: torch.nn.Module
    baseline: torch.nn.Module

    def items(self):
        return (('ours', self.ours), ('baseline', self.baseline))


def baseline_config(model: str = 'r50') -> str:
    """mmseg's own MaskFormer config, or mmdet's own Mask2Former config,
    from the installed package."""
    if model in MASK2FORMER_MODELS:
        import mmdet
        return osp.join(osp.dirname(mmdet.__file__), '.mim', 'configs',
                        'mask2former', BASELINE_CONFIGS[model])
    import mmseg
    return osp.join(osp.dirname(mmseg.__file__), '.mim', 'configs',
                    'maskformer', BASELINE_CONFIGS[model])


def _benchmark_config(path: str, size: int, swin_l: bool) -> Config:
    cfg = Config.fromfile(path)
    cfg.model.backbone.init_cfg = None  # random weights, copied across
    if 'Swin' in cfg.model.backbone.type:
        if swin_l and cfg.model.backbone.get('embed_dims') != 192:
            cfg.model.backbone.update(SWIN_L)
            cfg.model.decode_head.in_channels = [192, 384, 768, 1536]
    else:  # FrozenBN ResNet on both sides (the official setting)
        cfg.model.backbone.norm_cfg = dict(type='BN', requires_grad=False)
        cfg.model.backbone.norm_eval = True
    preprocessor = cfg.model.data_preprocessor
    if 'DetDataPreprocessor' in preprocessor.type:
        # panoptic: the batch is generated at the benchmark size (a
        # multiple of 32); mmdet's LSJ config would pad it to 1024
        preprocessor.batch_augments = None
        preprocessor.pad_size_divisor = 32
    else:
        preprocessor.size = (size, size)
    return cfg


def build_ours(config: str, size: int) -> torch.nn.Module:
    cfg = _benchmark_config(config, size, swin_l=False)
    head = cfg.model.get('decode_head') or cfg.model.panoptic_head
    criterion = head.criterion
    if 'matcher' in criterion:  # Mask2Former's point-sampled criterion
        criterion.matcher = probe_config(criterion.matcher, 'ours')
    else:
        criterion.assigner = probe_config(criterion.assigner, 'ours')
    with DefaultScope.overwrite_default_scope('mmmaskformer'):
        return revert_sync_batchnorm(MODELS.build(cfg.model))


def build_baseline(model: str, size: int) -> torch.nn.Module:
    cfg = _benchmark_config(baseline_config(model), size,
                            swin_l=model == 'swin-l')
    if model in MASK2FORMER_MODELS:  # mmdet's detector: a model train_cfg
        train_cfg, scope = cfg.model.train_cfg, 'mmdet'
    else:
        train_cfg, scope = cfg.model.decode_head.train_cfg, 'mmseg'
    train_cfg.assigner = probe_config(train_cfg.assigner, 'mmdet')
    with DefaultScope.overwrite_default_scope(scope):
        return revert_sync_batchnorm(MODELS.build(cfg.model))


def build_pair(model: str = 'r50', size: int = 256,
               ours_config: Optional[str] = None,
               device: str = 'cpu') -> ModelPair:
    """Both models in training mode on ``device``, the baseline holding our
    (seeded random) weights. Raises if a key does not map."""
    torch.manual_seed(0)
    pair = ModelPair(build_ours(ours_config or OURS_CONFIGS[model], size),
                     build_baseline(model, size))
    to_theirs = ours_to_mmdet_mask2former if model in MASK2FORMER_MODELS \
        else ours_to_openmmlab
    converted = to_theirs(pair.ours.state_dict())
    missing, unexpected = pair.baseline.load_state_dict(converted,
                                                        strict=False)
    missing = [k for k in missing if 'num_batches_tracked' not in k]
    if missing or unexpected:
        raise RuntimeError(f'our weights do not map onto the baseline: '
                           f'missing {missing[:5]}, unexpected '
                           f'{unexpected[:5]}')
    for _, m in pair.items():
        m.to(device).train()
    return pair


def make_batch(batch: int, size: int, segments: int,
               num_classes: int = NUM_CLASSES, seed: int = 0) -> dict:
    """Random images and Voronoi label maps of ``segments`` distinct classes
    (ADE20K averages 10-20 per image), as a dataloader would give them."""
    g = torch.Generator().manual_seed(seed)
    inputs, samples = [], []
    ys, xs = torch.meshgrid(torch.arange(size), torch.arange(size),
                            indexing='ij')
    for _ in range(batch):
        inputs.append(torch.randint(0, 256, (3, size, size), generator=g,
                                    dtype=torch.uint8))
        seeds = torch.rand(segments, 2, generator=g) * size
        dist = (ys[None] - seeds[:, 0, None, None])**2 + \
            (xs[None] - seeds[:, 1, None, None])**2  # (S, H, W)
        classes = torch.randperm(num_classes, generator=g)[:segments]
        gt = classes[dist.argmin(0)]  # (H, W)
        # seg_labels: the host list our pipeline packs (mmseg ignores it)
        sample = SegDataSample(metainfo=dict(
            img_shape=(size, size), ori_shape=(size, size),
            pad_shape=(size, size), seg_labels=torch.unique(gt).tolist()))
        sample.gt_sem_seg = PixelData(data=gt[None])
        samples.append(sample)
    return dict(inputs=inputs, data_samples=samples)


def make_panoptic_batch(batch: int, size: int, segments: int,
                        num_things: int = COCO_THINGS,
                        num_classes: int = COCO_CLASSES,
                        seed: int = 0) -> dict:
    """Random images and Voronoi panoptic ground truth as mmdet's COCO
    panoptic pipeline packs it: of the ``segments`` cells of an image, two
    thirds are thing instances (random thing classes, repeats allowed), the
    rest stuff regions of distinct stuff classes; ``gt_instances`` holds the
    things (labels, ``BitmapMasks``), ``gt_sem_seg`` every pixel's category
    (things included, as mmdet's ``LoadPanopticAnnotations`` writes it).
    The metainfo carries the host label lists our ``AddLabelLists`` packs
    (``seg_labels``, ``instance_labels``; mmdet's head ignores them)."""
    import numpy as np
    from mmdet.structures import DetDataSample
    from mmdet.structures.mask import BitmapMasks
    from mmengine.structures import InstanceData
    g = torch.Generator().manual_seed(seed)
    ys, xs = torch.meshgrid(torch.arange(size), torch.arange(size),
                            indexing='ij')
    num_instances = max(1, (2 * segments) // 3)
    inputs, samples = [], []
    for _ in range(batch):
        inputs.append(torch.randint(0, 256, (3, size, size), generator=g,
                                    dtype=torch.uint8))
        seeds = torch.rand(segments, 2, generator=g) * size
        dist = (ys[None] - seeds[:, 0, None, None])**2 + \
            (xs[None] - seeds[:, 1, None, None])**2  # (S, H, W)
        cell = dist.argmin(0)  # (H, W)
        things = torch.randint(0, num_things, (num_instances, ), generator=g)
        stuff = num_things + torch.randperm(
            num_classes - num_things, generator=g)[:segments - num_instances]
        category = torch.cat([things, stuff])  # per cell
        gt = category[cell]  # (H, W)
        present = [i for i in range(num_instances)
                   if bool((cell == i).any())]
        masks = np.stack([(cell == i).numpy().astype(np.uint8)
                          for i in present]) if present else \
            np.zeros((0, size, size), np.uint8)
        sample = DetDataSample(metainfo=dict(
            img_shape=(size, size), ori_shape=(size, size),
            pad_shape=(size, size),
            seg_labels=torch.unique(gt).tolist(),
            instance_labels=things[present].tolist()))
        sample.gt_instances = InstanceData(
            labels=things[present].long(),
            masks=BitmapMasks(masks, size, size))
        sample.gt_sem_seg = PixelData(sem_seg=gt[None])
        samples.append(sample)
    return dict(inputs=inputs, data_samples=samples)


def use_mmdet_pytorch_focal() -> None:
    """Make mmdet's ``FocalLoss`` take its PyTorch path on CUDA too.

    On CUDA tensors with 1-D targets (MaskFormer's mask loss) it calls
    mmcv's CUDA ``sigmoid_focal_loss``, which GPU wheels built without CUDA
    ops lack. The PyTorch path computes the same loss with more kernels and
    memory than mmcv's fused one, so baseline GPU figures measured this way
    are labelled "mmdet PyTorch focal". Only :func:`~.ab_run.run` calls
    this, on CUDA without mmcv's CUDA ops; it replaces a module function of
    mmdet's losses for the process."""
    import torch.nn.functional as F
    from mmdet.models.losses import focal_loss

    def pytorch_path(pred, target, weight=None, gamma=2.0, alpha=0.25,
                     reduction='mean', avg_factor=None):
        one_hot = F.one_hot(target, num_classes=pred.size(1) + 1)
        return focal_loss.py_sigmoid_focal_loss(
            pred, one_hot[:, :pred.size(1)].type_as(pred), weight, gamma,
            alpha, reduction, avg_factor)

    focal_loss.sigmoid_focal_loss = pytorch_path
