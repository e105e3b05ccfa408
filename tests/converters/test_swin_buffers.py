"""Swin's original code saves two non-learnable buffers: ``attn_mask`` (the
shifted-window mask of every odd block) and ``relative_position_index``.
The backbone converter drops the first with a note (mmseg's Swin builds it
in the forward pass), maps the second (mmseg's ``WindowMSA`` holds the same
buffer) and refuses only keys it does not know."""
import os.path as osp

import numpy as np
import pytest
import torch
from mmengine.config import Config
from mmengine.registry import init_default_scope

import mmmaskformer  # noqa: F401
from mmmaskformer.converters import convert_backbone_weights, convert_official_state_dict
from mmmaskformer.registry import MODELS

REPO = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))


def swin_classification_checkpoint(official_keys):
    """Keys as in ``swin_tiny_patch4_window7_224.pth``: ImageNet head and
    final norm, an ``attn_mask`` in every shifted (odd) block of stages 0-2
    (stage 3's 7x7 map is one window: no shift, no mask)."""
    sd = {k[len('backbone.'):]: v
          for k, v in official_keys.swin_backbone('t').items()
          if not k.startswith('backbone.norm')}
    for i, (depth, size) in enumerate(zip((2, 2, 6), (56, 28, 14))):
        for j in range(1, depth, 2):
            sd[f'layers.{i}.blocks.{j}.attn_mask'] = np.full(
                ((size // 7)**2, 49, 49), -100.0, np.float32)
    sd['norm.weight'] = sd['norm.bias'] = np.zeros(96 * 8, np.float32)
    sd['head.weight'] = np.zeros((1000, 96 * 8), np.float32)
    return sd


def test_attn_mask_dropped_relative_position_index_kept(official_keys):
    sd = swin_classification_checkpoint(official_keys)
    masks = sorted(k for k in sd if k.endswith('attn_mask'))
    assert len(masks) == 1 + 1 + 3
    conv, dropped = convert_backbone_weights(sd)
    assert sorted(dropped) == sorted(
        masks + ['head.weight', 'norm.bias', 'norm.weight'])
    index = 'layers.2.blocks.5.attn.relative_position_index'
    assert torch.equal(
        conv['stages.2.blocks.5.attn.w_msa.relative_position_index'],
        torch.from_numpy(sd[index]))
    cfg = Config.fromfile(osp.join(REPO, 'configs',
                                   'maskformer_swin-t_ade20k.py'))
    init_default_scope('mmmaskformer')
    backbone = MODELS.build(cfg.model).backbone
    missing, unexpected = backbone.load_state_dict(conv, strict=False)
    assert not unexpected
    assert sorted(missing) == [f'norm{i}.{p}' for i in range(4)
                               for p in ('bias', 'weight')]


def test_full_official_checkpoint_drops_attn_mask(official_keys):
    sd = dict(official_keys.swin_backbone('t'))
    sd['backbone.layers.0.blocks.1.attn_mask'] = np.zeros((64, 49, 49),
                                                          np.float32)
    conv = convert_official_state_dict(sd)
    assert not any('attn_mask' in k for k in conv)
    assert 'backbone.stages.0.blocks.1.attn.w_msa.relative_position_index' \
        in conv


@pytest.mark.slow
def test_unknown_swin_key_is_refused_by_the_tool(tmp_path, official_keys,
                                                 run_tool, stopped_cleanly):
    sd = swin_classification_checkpoint(official_keys)
    src = tmp_path / 'swin_tiny.pth'
    torch.save({'model': {k: torch.from_numpy(np.asarray(v))
                          for k, v in sd.items()}}, str(src))
    out = run_tool(['tools/convert_backbone.py', str(src),
                    str(tmp_path / 'ok.pth')])
    assert 'layers.1.blocks.1.attn_mask' in out.split('dropped:')[1]
    sd['layers.0.blocks.0.layer_scale'] = np.ones(96, np.float32)
    torch.save({'model': {k: torch.from_numpy(np.asarray(v))
                          for k, v in sd.items()}}, str(src))
    out = run_tool(['tools/convert_backbone.py', str(src),
                    str(tmp_path / 'bad.pth')], expect_rc=1)
    msg = stopped_cleanly(out, 'CheckpointError')
    assert str(src) in msg and 'layers.0.blocks.0.layer_scale' in msg
    assert 'attn_mask' not in msg
