"""tools/convert_mmseg_checkpoint.py: a MaskFormer trained with mmseg
(semantic) or mmdet (panoptic) moves onto our code and predicts the same
class and mask logits."""
import os.path as osp
import sys

import pytest
import torch
from mmengine.config import Config
from mmengine.registry import init_default_scope

import mmmaskformer  # noqa: F401
from mmmaskformer.errors import CheckpointError

REPO = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
sys.path.insert(0, osp.join(REPO, 'tools'))
from convert_mmseg_checkpoint import main as convert_main  # noqa: E402

SEMANTIC = osp.join(REPO, 'configs', 'maskformer_r18-tiny_synthetic-64x64.py')
PANOPTIC = osp.join(REPO, 'configs',
                    'maskformer_r18-tiny_synthetic-panoptic-64x64.py')


def _tiny_layer_cfg(layer_cfg):
    for name in ('self_attn_cfg', 'cross_attn_cfg'):
        if name in layer_cfg:
            layer_cfg[name].update(embed_dims=64, num_heads=4)
    layer_cfg.ffn_cfg.update(embed_dims=64, feedforward_channels=256)


def build_theirs(kind):
    """mmseg's (semantic) or mmdet's (panoptic) MaskFormer config at the
    demo's sizes, random weights."""
    if kind == 'semantic':
        import mmseg
        from mmseg.registry import MODELS
        path = osp.join(osp.dirname(mmseg.__file__), '.mim', 'configs',
                        'maskformer',
                        'maskformer_r50-d32_8xb2-160k_ade20k-512x512.py')
        scope, head_key = 'mmseg', 'decode_head'
    else:
        import mmdet
        from mmdet.registry import MODELS
        path = osp.join(osp.dirname(mmdet.__file__), '.mim', 'configs',
                        'maskformer', 'maskformer_r50_ms-16xb1-75e_coco.py')
        scope, head_key = 'mmdet', 'panoptic_head'
    cfg = Config.fromfile(path)
    model = cfg.model
    model.backbone.update(depth=18, stem_channels=16, base_channels=16,
                          init_cfg=None,
                          norm_cfg=dict(type='BN', requires_grad=True),
                          norm_eval=False)
    head = model[head_key]
    head.update(in_channels=[16, 32, 64, 128], feat_channels=64,
                out_channels=64, num_queries=20)
    head.positional_encoding.num_feats = 32
    head.transformer_decoder.num_layers = 3
    _tiny_layer_cfg(head.transformer_decoder.layer_cfg)
    if kind == 'semantic':
        head.num_classes = 6
        head.loss_cls.class_weight = [1.0] * 6 + [0.1]
    else:
        ours = Config.fromfile(PANOPTIC)  # the demo's classes
        things, stuff = ours.num_things, ours.num_stuff
        head.update(num_things_classes=things, num_stuff_classes=stuff)
        head.loss_cls.class_weight = [1.0] * (things + stuff) + [0.1]
        model.panoptic_fusion_head.update(num_things_classes=things,
                                          num_stuff_classes=stuff)
        encoder = head.pixel_decoder.encoder
        encoder.num_layers = 1
        _tiny_layer_cfg(encoder.layer_cfg)
        head.pixel_decoder.positional_encoding.num_feats = 32
    init_default_scope(scope)
    torch.manual_seed(0)
    theirs = MODELS.build(model)
    theirs.init_weights()
    return theirs.eval(), head_key


def their_logits(model, head_key, x):
    from mmengine.structures import InstanceData  # noqa: F401
    if head_key == 'decode_head':
        from mmseg.structures import SegDataSample as Sample
    else:
        from mmdet.structures import DetDataSample as Sample
    sample = Sample(metainfo=dict(img_shape=x.shape[-2:],
                                  pad_shape=x.shape[-2:],
                                  batch_input_shape=x.shape[-2:]))
    head = getattr(model, head_key)
    with torch.no_grad():
        cls, masks = head(model.extract_feat(x), [sample] * len(x))
    return cls, masks


@pytest.mark.slow
@pytest.mark.parametrize('kind,config', [('semantic', SEMANTIC),
                                         ('panoptic', PANOPTIC)])
def test_openmmlab_maskformer_converts_and_predicts_identically(
        tmp_path, kind, config, run_tool):
    theirs, head_key = build_theirs(kind)
    src = tmp_path / 'theirs.pth'
    torch.save(dict(state_dict=theirs.state_dict(),
                    meta=dict(dataset_meta=dict(classes=list('abcdef')))),
               src)
    dst = tmp_path / 'ours.pth'
    # the documented command, as a fresh process
    out = run_tool(['tools/convert_mmseg_checkpoint.py', str(src), str(dst),
                    '--config', config])
    assert str(dst) in out

    from mmmaskformer.registry import MODELS
    from mmmaskformer.utils.checkpoint import safe_load
    cfg = Config.fromfile(config)
    init_default_scope('mmmaskformer')
    ours = MODELS.build(cfg.model).eval()
    converted = safe_load(str(dst))  # weights-only
    assert converted['meta']['converted_from'] == 'theirs.pth'
    result = ours.load_state_dict(converted['state_dict'], strict=True)
    assert not result.missing_keys and not result.unexpected_keys

    x = torch.randn(2, 3, 64, 64, generator=torch.Generator().manual_seed(1))
    cls_theirs, masks_theirs = their_logits(theirs, head_key, x)
    with torch.no_grad():
        out = getattr(ours, head_key)(ours.extract_feat(x))
    # (layers, batch, queries, classes + 1) and (..., h, w), every layer
    assert out.cls_logits.shape == cls_theirs.shape == (3, 2, 20,
                                                         cls_theirs.shape[-1])
    assert (out.cls_logits - cls_theirs).abs().max() < 1e-5
    assert (out.mask_logits - masks_theirs).abs().max() < 1e-5
    # the values are not trivially equal (random weights, real signal)
    assert cls_theirs.std() > 1e-2 and masks_theirs.std() > 1e-2


def test_a_mismatched_config_is_named(tmp_path, capsys):
    theirs, _ = build_theirs('semantic')
    src = tmp_path / 'theirs.pth'
    torch.save(dict(state_dict=theirs.state_dict()), src)
    r50 = osp.join(REPO, 'configs', 'maskformer_r50_ade20k.py')
    with pytest.raises(CheckpointError) as e:
        convert_main([str(src), str(tmp_path / 'out.pth'), '--config', r50])
    message = str(e.value)
    assert 'does not convert to the model of' in message
    assert 'shape mismatch' in message and 'missing' in message
    assert not (tmp_path / 'out.pth').exists()
    # not a MaskFormer checkpoint at all
    torch.save(dict(state_dict=dict(w=torch.zeros(1))), src)
    with pytest.raises(CheckpointError, match='not a MaskFormer checkpoint'):
        convert_main([str(src), str(tmp_path / 'out.pth')])
