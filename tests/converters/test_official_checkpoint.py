"""Converting official (detectron2) checkpoints: every key consumed, every
shape matching our model, nothing left unset."""
import os.path as osp
import pickle
import subprocess
import sys

import numpy as np
import pytest
import torch
from mmengine.config import Config
from mmengine.registry import init_default_scope

import mmmaskformer  # noqa: F401
from mmmaskformer.converters import convert_official_state_dict
from mmmaskformer.registry import MODELS
from official_keys import maskformer_head, resnet_backbone

REPO = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))


def build(config):
    cfg = Config.fromfile(osp.join(REPO, 'configs', config))
    init_default_scope('mmmaskformer')
    return MODELS.build(cfg.model)


def assert_loads_exactly(model, converted):
    ours = model.state_dict()
    assert set(converted) == set(ours), (
        sorted(set(ours) - set(converted))[:10],
        sorted(set(converted) - set(ours))[:10])
    for k, v in converted.items():
        assert tuple(v.shape) == tuple(ours[k].shape), (k, v.shape,
                                                        ours[k].shape)
    missing, unexpected = model.load_state_dict(converted, strict=True)
    assert not missing and not unexpected


@pytest.mark.parametrize('old_layout', [True, False])
def test_r50_ade20k_official_keys(old_layout):
    sd = resnet_backbone(50)
    sd.update(maskformer_head(150, old_layout=old_layout))
    model = build('maskformer_r50_ade20k.py')
    converted = convert_official_state_dict(sd)
    assert_loads_exactly(model, converted)
    # values are carried over unchanged
    np.testing.assert_array_equal(
        converted['backbone.layer3.5.bn2.running_var'].numpy(),
        sd['backbone.res4.5.conv2.norm.running_var'])
    pd = 'sem_seg_head.' if old_layout else 'sem_seg_head.pixel_decoder.'
    np.testing.assert_array_equal(
        converted['decode_head.pixel_decoder.lateral_convs.0.conv.weight']
        .numpy(), sd[pd + 'adapter_1.weight'])
    np.testing.assert_array_equal(
        converted['decode_head.transformer_decoder.decoder.layers.5.'
                  'cross_attn.in_proj_bias'].numpy(),
        sd['sem_seg_head.predictor.transformer.decoder.layers.5.'
           'multihead_attn.in_proj_bias'])


def test_unknown_keys_are_named():
    sd = maskformer_head(4, dim=64, ffn=64, queries=3, dec_layers=1)
    sd['sem_seg_head.predictor.bogus.weight'] = np.zeros(1, np.float32)
    with pytest.raises(KeyError, match='sem_seg_head.predictor.bogus.weight'):
        convert_official_state_dict(sd)


def test_no_object_weight_is_checked():
    sd = maskformer_head(4, dim=64, ffn=64, queries=3, dec_layers=1)
    with pytest.raises(ValueError, match='no_object_weight=0.2'):
        convert_official_state_dict(sd, no_object_weight=0.2)


def test_convert_tool_on_a_pkl(tmp_path):
    sd = resnet_backbone(50)
    sd.update(maskformer_head(150))
    src = tmp_path / 'model_final_d8dbeb.pkl'
    with open(src, 'wb') as f:
        pickle.dump(dict(model=sd, __author__='test'), f)
    dst = tmp_path / 'converted.pth'
    proc = subprocess.run(
        [sys.executable, 'tools/convert_official_checkpoint.py', str(src),
         str(dst)], cwd=REPO, capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stderr[-2000:]
    ckpt = torch.load(dst, weights_only=False)
    model = build('maskformer_r50_ade20k.py')
    assert_loads_exactly(model, ckpt['state_dict'])
