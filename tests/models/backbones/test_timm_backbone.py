"""A timm model with features_only as the backbone: builds from a config,
trains one step, predicts."""
import os.path as osp

import pytest
import torch
from mmengine.config import Config
from mmengine.registry import init_default_scope

import mmmaskformer  # noqa: F401
from mmmaskformer.registry import MODELS

REPO = osp.dirname(osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__)))))


def tiny_timm_model(model_name):
    cfg = Config.fromfile(
        osp.join(REPO, 'configs', 'maskformer_timm-convnext-t_ade20k.py'))
    cfg.model.backbone = dict(type='TimmBackbone', model_name=model_name)
    cfg.model.data_preprocessor.size = (64, 64)
    head = cfg.model.decode_head
    head.num_classes = 3
    head.pixel_decoder.update(conv_dim=32, mask_dim=32)
    head.transformer_decoder.update(hidden_dim=32, num_queries=5,
                                    num_heads=2, dim_feedforward=32,
                                    num_layers=2)
    init_default_scope('mmmaskformer')
    return MODELS.build(cfg.model)


@pytest.mark.parametrize('model_name,channels', [
    ('test_convnext', [24, 32, 48, 64]),
    ('test_efficientnet', None),
])
def test_timm_backbone_trains_and_predicts(model_name, channels, seg_sample):
    torch.manual_seed(0)
    model = tiny_timm_model(model_name)
    in_ch = model.decode_head.pixel_decoder.in_channels
    assert in_ch == model.backbone.out_channels  # taken from the model
    if channels:
        assert in_ch == channels
    gt = torch.zeros(64, 64, dtype=torch.long)
    gt[:, 32:] = 1
    gt[:10] = 2
    img = torch.randint(0, 255, (3, 64, 64), dtype=torch.uint8)
    data = dict(inputs=[img, img.flip(-1)],
                data_samples=[seg_sample(gt), seg_sample(gt.flip(-1))])
    optim = torch.optim.AdamW(model.parameters(), lr=1e-4)
    model.train()
    batch = model.data_preprocessor(data, training=True)
    losses = model(**batch, mode='loss')
    loss = sum(losses.values())
    loss.backward()
    optim.step()
    assert torch.isfinite(loss)
    assert all(p.grad is not None for p in model.backbone.parameters())
    model.eval()
    with torch.no_grad():
        out = model.test_step(data)
    assert out[0].pred_sem_seg.data.shape == (1, 64, 64)


def test_unsupported_strides_are_named():
    from mmmaskformer.models import TimmBackbone
    with pytest.raises(ValueError, match='strides'):
        TimmBackbone('test_convnext', strides=(2, 4, 8, 16))
