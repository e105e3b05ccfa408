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
from mmmaskformer.converters import convert_backbone_weights, convert_official_state_dict
from mmmaskformer.registry import MODELS

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
def test_r50_ade20k_official_keys(old_layout, official_keys):
    sd = official_keys.resnet_backbone(50)
    sd.update(official_keys.maskformer_head(150, old_layout=old_layout))
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


def test_unknown_keys_are_named(official_keys):
    sd = official_keys.maskformer_head(4, dim=64, ffn=64, queries=3, dec_layers=1)
    sd['sem_seg_head.predictor.bogus.weight'] = np.zeros(1, np.float32)
    with pytest.raises(KeyError, match='sem_seg_head.predictor.bogus.weight'):
        convert_official_state_dict(sd)


def test_no_object_weight_is_checked(official_keys):
    sd = official_keys.maskformer_head(4, dim=64, ffn=64, queries=3, dec_layers=1)
    with pytest.raises(ValueError, match='no_object_weight=0.2'):
        convert_official_state_dict(sd, no_object_weight=0.2)


@pytest.mark.slow
def test_convert_tool_on_a_pkl(tmp_path, official_keys):
    sd = official_keys.resnet_backbone(50)
    sd.update(official_keys.maskformer_head(150))
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



class _Evil:
    def __init__(self, marker):
        self.marker = marker

    def __reduce__(self):
        import os
        return os.system, (f'touch {self.marker}',)


@pytest.mark.slow
def test_pkl_is_read_without_running_code(tmp_path):
    """A .pkl whose unpickling would run a command is refused by default;
    the real arrays-only file above converts without --trust-pickle."""
    from mmmaskformer.converters.io import load_official
    from mmmaskformer.errors import CheckpointError
    marker = tmp_path / 'pwned'
    src = tmp_path / 'evil.pkl'
    with open(src, 'wb') as f:
        pickle.dump(dict(model={'a': np.zeros(2)}, x=_Evil(str(marker))), f)
    with pytest.raises(CheckpointError, match=r'evil.pkl: refusing to '
                       r'unpickle posix.system.*--trust-pickle'):
        load_official(str(src))
    proc = subprocess.run(
        [sys.executable, 'tools/convert_official_checkpoint.py', str(src),
         str(tmp_path / 'out.pth')], cwd=REPO, capture_output=True,
        text=True, timeout=300)
    assert proc.returncode != 0 and 'refusing to unpickle' in proc.stderr
    assert not marker.exists()
    good = tmp_path / 'good.pkl'
    with open(good, 'wb') as f:
        pickle.dump(dict(model={'w': np.arange(3.0, dtype=np.float32)},
                         __author__='x', matching_heuristics=True), f)
    assert np.array_equal(load_official(str(good))['w'], [0., 1., 2.])


SEMANTIC_ROWS = [
    # config, backbone key set, classes
    ('maskformer_r101_ade20k.py', dict(depth=101), 150),
    ('maskformer_r101c_ade20k.py', dict(depth=101, deep_stem=True), 150),
    ('maskformer_r50_coco-stuff10k.py', dict(depth=50), 171),
    ('maskformer_r101c_cityscapes.py', dict(depth=101, deep_stem=True), 19),
    ('maskformer-fixed_r50_ade20k.py', dict(depth=50), 150),
]


@pytest.mark.parametrize('config,backbone,classes', SEMANTIC_ROWS,
                         ids=[r[0] for r in SEMANTIC_ROWS])
def test_resnet_rows(config, backbone, classes, official_keys):
    sd = official_keys.resnet_backbone(**backbone)
    queries = 150 if 'fixed' in config else 100
    sd.update(official_keys.maskformer_head(classes, queries=queries))
    assert_loads_exactly(build(config), convert_official_state_dict(sd))


@pytest.mark.parametrize('size', [
    't', pytest.param('s', marks=pytest.mark.slow),
    pytest.param('b', marks=pytest.mark.slow),
    pytest.param('l', marks=pytest.mark.slow)])  # full-size builds
def test_swin_ade20k_rows(size, official_keys):
    sd = official_keys.swin_backbone(size)
    sd.update(official_keys.maskformer_head(150, in_channels=official_keys.swin_channels(size)))
    model = build(f'maskformer_swin-{size}_ade20k.py')
    assert_loads_exactly(model, convert_official_state_dict(sd))


@pytest.mark.parametrize('config,backbone', [
    ('maskformer_r50_coco-panoptic.py', 'r50'),
    ('maskformer_r101_coco-panoptic.py', 'r101'),
    ('maskformer_r50_ade20k-panoptic.py', 'r50'),
    ('maskformer_swin-t_coco-panoptic.py', 't'),
    ('maskformer_swin-l_coco-panoptic.py', 'l'),
])
def test_panoptic_rows(config, backbone, official_keys):
    classes = 150 if 'ade20k' in config else 133
    if backbone.startswith('r'):
        sd = official_keys.resnet_backbone(depth=int(backbone[1:]))
        sd.update(official_keys.maskformer_head(classes, enc_layers=6))  # "+6 Enc"
    else:
        sd = official_keys.swin_backbone(backbone)
        sd.update(official_keys.maskformer_head(
            classes, in_channels=official_keys.swin_channels(backbone)))
    model = build(config)
    assert_loads_exactly(
        model, convert_official_state_dict(sd, head_prefix='panoptic_head.'))


def test_swin_patch_merging_order_is_converted():
    """Official patch merging concatenates the 2x2 neighbours (0,0), (1,0),
    (0,1), (1,1); after conversion mmseg's PatchMerging gives the same
    output."""
    from mmseg.models.backbones.swin import PatchMerging
    c = 8
    g = torch.Generator().manual_seed(0)
    sd = {'backbone.layers.0.downsample.reduction.weight':
          torch.randn(2 * c, 4 * c, generator=g),
          'backbone.layers.0.downsample.norm.weight':
          torch.randn(4 * c, generator=g),
          'backbone.layers.0.downsample.norm.bias':
          torch.randn(4 * c, generator=g),
          'backbone.patch_embed.proj.bias': torch.zeros(1)}
    conv = convert_official_state_dict(sd)
    merge = PatchMerging(c, 2 * c)
    merge.reduction.weight.data = conv['backbone.stages.0.downsample.'
                                       'reduction.weight']
    merge.norm.weight.data = conv['backbone.stages.0.downsample.norm.weight']
    merge.norm.bias.data = conv['backbone.stages.0.downsample.norm.bias']
    x = torch.randn(2, 6 * 4, c, generator=g)  # (B, H*W, C), H=6, W=4
    ours, _ = merge(x, (6, 4))
    # the official computation
    v = x.view(2, 6, 4, c)
    cat = torch.cat([v[:, 0::2, 0::2], v[:, 1::2, 0::2], v[:, 0::2, 1::2],
                     v[:, 1::2, 1::2]], -1).view(2, -1, 4 * c)
    cat = torch.nn.functional.layer_norm(
        cat, (4 * c, ), sd['backbone.layers.0.downsample.norm.weight'],
        sd['backbone.layers.0.downsample.norm.bias'])
    ref = cat @ sd['backbone.layers.0.downsample.reduction.weight'].t()
    torch.testing.assert_close(ours, ref, atol=1e-5, rtol=1e-5)


def _backbone_of(config):
    return build(config).backbone


def test_backbone_weights_torchvision_resnet():
    import torchvision
    src = torchvision.models.resnet50().state_dict()
    conv, dropped = convert_backbone_weights(src)
    assert dropped == ['fc.weight', 'fc.bias']
    missing, unexpected = _backbone_of('maskformer_r50_ade20k.py') \
        .load_state_dict(conv, strict=True)
    assert not missing and not unexpected


@pytest.mark.slow
def test_backbone_weights_detectron2_r103(tmp_path, official_keys):
    sd = {k[len('backbone.'):]: v
          for k, v in official_keys.resnet_backbone(101, deep_stem=True).items()}
    src = tmp_path / 'R-103.pkl'
    with open(src, 'wb') as f:
        pickle.dump(dict(model=sd), f)
    dst = tmp_path / 'R-103_mmseg.pth'
    proc = subprocess.run(
        [sys.executable, 'tools/convert_backbone.py', str(src), str(dst)],
        cwd=REPO, capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stderr[-2000:]
    conv = torch.load(dst, weights_only=False)['state_dict']
    missing, unexpected = _backbone_of('maskformer_r101c_ade20k.py') \
        .load_state_dict(conv, strict=True)
    assert not missing and not unexpected


@pytest.mark.parametrize('size', ['t', pytest.param('l', marks=pytest.mark.slow)])
def test_backbone_weights_official_swin(size, official_keys):
    sd = {k[len('backbone.'):]: v for k, v in official_keys.swin_backbone(size).items()
          if not k.startswith('backbone.norm')}
    sd['norm.weight'] = sd['norm.bias'] = np.zeros(1, np.float32)
    sd['head.weight'] = np.zeros((1000, 8), np.float32)
    conv, dropped = convert_backbone_weights(sd)
    assert sorted(dropped) == ['head.weight', 'norm.bias', 'norm.weight']
    missing, unexpected = _backbone_of(f'maskformer_swin-{size}_ade20k.py') \
        .load_state_dict(conv, strict=False)
    assert not unexpected
    # only MaskFormer's per-output norms are new
    assert sorted(missing) == [f'norm{i}.{p}' for i in range(4)
                               for p in ('bias', 'weight')]
