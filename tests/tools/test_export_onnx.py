"""tools/deploy/export_onnx.py: the demo semantic models (MaskFormer's and
Mask2Former's) under onnxruntime give torch's outputs within 1e-4, and the
score map is the one mmseg's inference_model computes for the same image."""
import os.path as osp
import sys

import numpy as np
import pytest
import torch

REPO = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
sys.path.insert(0, osp.join(REPO, 'tools', 'deploy'))
CONFIG = osp.join(REPO, 'configs', 'maskformer_r18-tiny_synthetic-64x64.py')
M2F = osp.join(REPO, 'configs', 'mask2former_r18-tiny_synthetic-64x64.py')


@pytest.mark.slow  # export + onnxruntime + mmseg's API, per model
@pytest.mark.parametrize('config', [CONFIG, M2F],
                         ids=['maskformer', 'mask2former'])
def test_onnx_export_matches_torch_and_mmseg(tmp_path, config):
    import onnxruntime
    from export_onnx import OUTPUTS, check, main
    from mmengine.config import Config
    from mmengine.registry import init_default_scope
    from mmseg.apis import inference_model

    import mmmaskformer  # noqa: F401
    from mmmaskformer.registry import MODELS
    init_default_scope('mmmaskformer')
    torch.manual_seed(0)
    model = MODELS.build(Config.fromfile(config).model)
    ckpt = tmp_path / 'demo.pth'
    torch.save(dict(state_dict=model.state_dict(), meta=dict()), ckpt)
    out = str(tmp_path / 'demo.onnx')
    assert main([config, str(ckpt), '--shape', '64', '96', '--out',
                 out]) == out

    from export_onnx import build_export_module
    module = build_export_module(config, str(ckpt))
    diffs = check(module, out, (64, 96), seed=3)
    assert set(diffs) == set(OUTPUTS)
    assert max(diffs.values()) < 1e-4, diffs

    session = onnxruntime.InferenceSession(
        out, providers=['CPUExecutionProvider'])
    assert [i.name for i in session.get_inputs()] == ['img']
    assert [o.name for o in session.get_outputs()] == list(OUTPUTS)
    img = np.random.default_rng(0).integers(0, 256, (64, 96, 3),
                                            dtype=np.uint8)  # BGR, as loaded
    scores, cls_logits, mask_logits = session.run(
        None, {'img': img.transpose(2, 0, 1)[None].astype(np.float32)})
    q = cls_logits.shape[1]
    assert scores.shape == (1, 6, 64, 96)
    assert mask_logits.shape == (1, q, 16, 24)
    # the model's own prediction through mmseg's API on the same image
    result = inference_model(module.segmentor, img)
    ref = result.seg_logits.data.numpy()
    assert abs(scores[0] - ref).max() < 1e-4
    assert (scores[0].argmax(0) ==
            result.pred_sem_seg.data[0].numpy()).mean() > 0.999


def test_export_refuses_a_data_dependent_semantic_inference(tmp_path):
    """'general' keeps the queries above a score: a traced graph would
    freeze the example image's set, so the tool stops and names the key."""
    from export_onnx import build_export_module
    config = tmp_path / 'general.py'
    config.write_text(f'_base_ = {CONFIG!r}\n'
                      "model = dict(test_cfg=dict(semantic_inference="
                      "'general'))\n")
    with pytest.raises(SystemExit, match="semantic_inference='general'"):
        build_export_module(str(config), None)
