"""OpenMMLab's own inferencers on our configs, through
``upstream_inference_config`` (the stock loaders' names in the test
pipeline): mmseg's MMSegInferencer and inference_model (semantic) and mmdet's
DetInferencer (panoptic and instance, with scope='mmmaskformer' so that our
dataset and model types resolve)."""
import os.path as osp

import cv2
import numpy as np
import pytest
import torch
from mmengine.config import Config
from mmengine.registry import init_default_scope

import mmmaskformer  # noqa: F401
from mmmaskformer.apis import upstream_inference_config
from mmmaskformer.datasets import generate_synthetic_dataset

REPO = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
SEMANTIC = osp.join(REPO, 'configs', 'maskformer_r18-tiny_synthetic-64x64.py')
PANOPTIC = osp.join(REPO, 'configs',
                    'maskformer_r18-tiny_synthetic-panoptic-64x64.py')
INSTANCE = osp.join(REPO, 'configs',
                    'maskformer_r18-tiny_synthetic-panoptic-instance-64x64.py')


def _checkpoint(tmp_path, config, name):
    """Random weights of the config's model, saved with its dataset_meta
    (what a training run's checkpoint carries)."""
    from mmmaskformer.registry import DATASETS, MODELS
    cfg = Config.fromfile(config)
    init_default_scope('mmmaskformer')
    torch.manual_seed(0)
    model = MODELS.build(cfg.model)
    dataset = dict(cfg.test_dataloader.dataset, lazy_init=True)
    meta = DATASETS.build(dataset).metainfo
    path = str(tmp_path / f'{name}.pth')
    torch.save(dict(state_dict=model.state_dict(),
                    meta=dict(dataset_meta=meta)), path)
    return path


@pytest.fixture(scope='module')
def image(tmp_path_factory):
    root = generate_synthetic_dataset(
        str(tmp_path_factory.mktemp('syn')), num_train=1, num_val=2,
        progress=False)
    return osp.join(root, 'img_dir', 'val', '00000.png')


def test_our_configs_name_checking_loaders_that_upstream_cannot_find(
        tmp_path):
    from mmseg.apis import MMSegInferencer
    ckpt = _checkpoint(tmp_path, SEMANTIC, 'semantic')
    with pytest.raises(ValueError, match='LoadImageFromFile is not found'):
        MMSegInferencer(model=SEMANTIC, weights=ckpt, device='cpu')
    cfg = upstream_inference_config(SEMANTIC)
    assert [t['type'] for t in cfg.test_pipeline] == [
        t['type'] for t in cfg.test_dataloader.dataset.pipeline] == [
        'LoadImageFromFile'] + [
        t['type'] for t in Config.fromfile(SEMANTIC).test_pipeline[2:]]
    # the original is unchanged
    assert Config.fromfile(SEMANTIC).test_pipeline[0]['type'] == \
        'mmmaskformer.LoadCheckedImage'


def test_mmseg_inferencer_runs_our_semantic_config(tmp_path, image):
    from mmseg.apis import MMSegInferencer, inference_model, init_model

    from mmmaskformer.apis import MaskFormerInferencer
    ckpt = _checkpoint(tmp_path, SEMANTIC, 'semantic')
    cfg = upstream_inference_config(SEMANTIC)
    inferencer = MMSegInferencer(model=cfg, weights=ckpt, device='cpu')
    out = inferencer(image, out_dir=str(tmp_path / 'out'))
    labels = np.asarray(out['predictions'])
    # the same label map as mmseg's inference_model on our model, and as
    # our own inferencer on the original config
    model = init_model(upstream_inference_config(SEMANTIC), ckpt,
                       device='cpu')
    ref = inference_model(model, image).pred_sem_seg.data[0].numpy()
    ours = MaskFormerInferencer(SEMANTIC, weights=ckpt, device='cpu')(
        image)['predictions'][0]['sem_seg']
    assert labels.shape == ref.shape == (64, 64)
    assert np.array_equal(labels, ref)
    assert np.array_equal(np.asarray(ours), ref)
    assert osp.isfile(tmp_path / 'out' / 'vis' / '00000.png')


def test_det_inferencer_runs_our_panoptic_and_instance_configs(tmp_path,
                                                              image):
    from mmdet.apis import DetInferencer
    ckpt = _checkpoint(tmp_path, PANOPTIC, 'panoptic')
    cfg = upstream_inference_config(PANOPTIC)
    # random weights are never confident: keep every query
    cfg.model.test_cfg.update(object_mask_threshold=0.0,
                              overlap_threshold=0.0)
    inferencer = DetInferencer(model=cfg, weights=ckpt, device='cpu',
                               scope='mmmaskformer')
    out = inferencer(image, out_dir=str(tmp_path / 'pan'),
                     no_save_pred=False)
    png = cv2.imread(out['predictions'][0]['panoptic_seg_path'])[..., ::-1]
    ids = png[..., 0].astype(np.int64) + 256 * png[..., 1] + \
        65536 * png[..., 2].astype(np.int64)
    num_things, num_classes = cfg.num_things, cfg.num_things + cfg.num_stuff
    values = np.unique(ids)
    assert len(values) >= 2
    for v in values:  # mmdet's ids: things label + 1000 * k, stuff label
        label = v % 1000
        assert label < num_classes or v == num_classes  # (void)
        assert (v >= 1000) == (label < num_things) or v == num_classes
    assert osp.isfile(tmp_path / 'pan' / 'vis' / '00000.png')

    cfg = upstream_inference_config(INSTANCE)
    inferencer = DetInferencer(model=cfg, weights=ckpt, device='cpu',
                               scope='mmmaskformer')
    sample = inferencer(image, return_datasamples=True)['predictions'][0]
    inst = sample.pred_instances
    assert inst.masks.dtype == torch.bool and inst.masks.shape[1:] == (64,
                                                                         64)
    assert ((inst.scores >= 0) & (inst.scores <= 1)).all()
    assert set(inst.labels.tolist()) <= set(range(cfg.num_things))
