"""The inferencer's thresholds and task switches apply to one call only
(issue 16, section 5): each call runs on its own copy of the model's
``test_cfg``, and the model's ``test_cfg`` is never written, not even while
a call runs or when it raises. And the task and model tables
(:mod:`mmmaskformer.apis.tasks`) are what the inferencer follows."""
import os.path as osp

import numpy as np
import pytest
import torch
from mmengine.config import Config
from mmengine.registry import DefaultScope

from mmmaskformer.apis import MaskFormerInferencer
from mmmaskformer.apis.tasks import MODEL_KINDS, TASKS

REPO = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
SEMANTIC = osp.join(REPO, 'configs', 'maskformer_r18-tiny_synthetic-64x64.py')
PANOPTIC = osp.join(REPO, 'configs',
                    'maskformer_r18-tiny_synthetic-panoptic-64x64.py')


def checkpoint(tmp_path, config) -> str:
    from mmmaskformer.registry import MODELS
    with DefaultScope.overwrite_default_scope('mmmaskformer'):
        torch.manual_seed(0)
        model = MODELS.build(Config.fromfile(config).model)
    path = str(tmp_path / (osp.basename(config) + '.pth'))
    torch.save(dict(state_dict=model.state_dict(), meta=dict()), path)
    return path


@pytest.fixture(scope='module')
def image():
    rng = np.random.default_rng(0)
    return rng.integers(0, 256, (64, 64, 3), dtype=np.uint8)  # BGR array


@pytest.fixture(scope='module')
def panoptic(tmp_path_factory):
    return MaskFormerInferencer(
        PANOPTIC, checkpoint(tmp_path_factory.mktemp('pan'), PANOPTIC),
        device='cpu', show_progress=False)


def test_thresholds_apply_to_the_call_not_to_the_model(panoptic, image):
    model_cfg = panoptic.model.test_cfg
    before = dict(model_cfg)
    seen = []  # the model's test_cfg while the head runs
    hook = panoptic.model.panoptic_head.register_forward_hook(
        lambda *_: seen.append(dict(panoptic.model.test_cfg)))
    try:
        default = panoptic(image)['predictions'][0]
        kept = panoptic(image, threshold=0.0, overlap_mask_area_threshold=0.0,
                        mask_threshold=0.9, task='panoptic')['predictions'][0]
    finally:
        hook.remove()
    assert seen == [before, before]
    assert panoptic.model.test_cfg is model_cfg and model_cfg == before
    # the call's thresholds were used: random weights are never confident
    # at the config's 0.8, so every query is void there and some are kept
    # at 0.0
    assert before['object_mask_threshold'] == 0.8
    assert default['segments_info'] == [] and not default['panoptic_seg'].any()
    assert len(kept['segments_info']) >= 1


def test_a_call_that_raises_leaves_the_model_as_it_was(panoptic, image):
    before = dict(panoptic.model.test_cfg)

    def fail(*_):
        raise RuntimeError('stop inside the forward')
    hook = panoptic.model.panoptic_head.register_forward_hook(fail)
    try:
        with pytest.raises(RuntimeError, match='stop inside'):
            panoptic(image, threshold=0.0, task='instance')
    finally:
        hook.remove()
    assert panoptic.model.test_cfg == before


def test_the_call_cfg_is_the_model_cfg_with_the_task_row(panoptic):
    model_cfg = dict(panoptic.model.test_cfg)
    for task in ('semantic', 'panoptic', 'instance'):
        cfg = panoptic.test_cfg_for(task, threshold=0.25,
                                    label_ids_to_fuse=range(2))
        assert cfg == dict(model_cfg, **TASKS[task].switches,
                           object_mask_threshold=0.25,
                           label_ids_to_fuse=[0, 1])
    assert panoptic.test_cfg_for('panoptic') == dict(
        model_cfg, semantic_on=False, instance_on=False)


def test_each_task_returns_its_row_field_only(panoptic, image):
    """The switches of each task's row make the model write that field (and
    not the other tasks' optional ones)."""
    for task in MODEL_KINDS[0].tasks:
        sample = panoptic(image, task=task,
                          return_datasamples=True)['predictions'][0]
        assert TASKS[task].field in sample
        others = {t.field for t in TASKS.values()} - {TASKS[task].field,
                                                      'pred_panoptic_seg'}
        assert not any(f in sample for f in others), (task, sample.keys())


def test_a_semantic_config_takes_no_thresholds(tmp_path, image):
    inferencer = MaskFormerInferencer(SEMANTIC, checkpoint(tmp_path, SEMANTIC),
                                      device='cpu', show_progress=False)
    assert inferencer.kind is MODEL_KINDS[1] and inferencer.kind.tasks == (
        'semantic',)
    assert inferencer.test_cfg_for('semantic') is None
    with pytest.raises(ValueError, match=r'threshold=0\.5 does not apply'):
        inferencer(image, threshold=0.5)
    with pytest.raises(ValueError, match='needs a panoptic config'):
        inferencer(image, task='panoptic')
    with pytest.raises(ValueError, match='expected one of'):
        inferencer(image, task='depth')
    assert inferencer(image)['predictions'][0]['sem_seg'].shape == (64, 64)


def test_the_callers_default_scope_is_left_alone(panoptic, image):
    """The inferencer runs in our scope (a fresh process has none) and
    gives the caller's scope back."""
    with DefaultScope.overwrite_default_scope('mmdet'):
        kept = panoptic(image, threshold=0.0, overlap_mask_area_threshold=0.0)
        assert DefaultScope.get_current_instance().scope_name == 'mmdet'
    assert len(kept['predictions'][0]['segments_info']) >= 1
