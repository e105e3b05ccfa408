"""tools/analysis: complexity and speed scripts run and report Table 1."""
import json
import os.path as osp
import sys

import pytest
import torch

REPO = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
sys.path.insert(0, osp.join(REPO, 'tools', 'analysis'))


@pytest.mark.slow  # FLOP traces of full-size models
@pytest.mark.parametrize('config,params,flops', [
    ('maskformer_r50_ade20k', 41, 53),
    ('maskformer_swin-t_ade20k', 42, 55),
])
def test_get_flops_matches_table1(config, params, flops):
    from get_flops import complexity
    res = complexity(osp.join(REPO, 'configs', config + '.py'))
    assert res['shape'] == (512, 512)
    assert abs(res['params'] / 1e6 - params) <= 0.01 * params
    assert abs(res['flops'] / 1e9 - flops) <= 0.05 * flops


@pytest.mark.slow  # four FLOP traces: ~10 s each on 2 cores
@pytest.mark.parametrize('config', [
    'mask2former_r18-tiny_synthetic-64x64',
    'mask2former_r18-tiny_synthetic-panoptic-64x64'])
def test_get_flops_counts_mask2former(config):
    """The counter runs through the deformable pixel decoder and the masked
    decoder (semantic and panoptic): every parameter is counted, and the
    FLOPs grow 4x with the pixels (convolutions and per-pixel einsums)."""
    from get_flops import build, complexity
    path = osp.join(REPO, 'configs', config + '.py')
    small = complexity(path, (64, 64))
    large = complexity(path, (128, 128))
    _, model = build(path)
    assert small['params'] == sum(p.numel() for p in model.parameters())
    assert 3.5 < large['flops'] / small['flops'] <= 4.0


M2F_TINY = osp.join(REPO, 'configs', 'mask2former_r18-tiny_synthetic-64x64.py')


@pytest.mark.slow
@pytest.mark.parametrize('which', ['maskformer', 'mask2former'])
def test_benchmark_runs(tmp_path, run_tool, tiny_config, which):
    """benchmark.py as documented, small (MaskFormer's and Mask2Former's
    demo configs): the fps is the inverse of the median of the timed runs
    it lists, the output is the semantic score map at the requested (H, W),
    and its op count equals a direct count of one inference of the same
    model."""
    tiny_config = tiny_config if which == 'maskformer' else M2F_TINY
    from get_flops import InferenceWrapper, build
    from step_measures import OpCounter
    out = tmp_path / 'fps.json'
    printed = run_tool(['tools/analysis/benchmark.py', tiny_config,
                        '--iters', '3', '--warmup', '1', '--shape', '32',
                        '64', '--out', str(out)])
    res = json.loads(out.read_text())
    assert (res['iters'], res['warmup'], res['shape']) == (3, 1, [32, 64])
    assert len(res['seconds']) == 3 and min(res['seconds']) > 0
    assert res['median_seconds'] == sorted(res['seconds'])[1]
    assert res['fps'] == pytest.approx(1 / res['median_seconds'], rel=1e-12)
    assert f"{res['fps']:.2f} fps (median of 3)" in printed
    # (1, K, H, W): the tiny config's 6 classes at the requested shape
    assert res['output_shapes'] == [[1, 6, 32, 64]]
    _, model = build(tiny_config)
    wrapper, image = InferenceWrapper(model).eval(), torch.randn(1, 3, 32, 64)
    counter = OpCounter()
    with torch.no_grad():
        wrapper(image)  # warm, as benchmark.py (Mask2Former keeps its
        # level geometry and position embeddings per input size)
        with counter:
            wrapper(image)
    assert res['ops_per_image'] == sum(counter.ops.values()) > 100
    assert f"{res['ops_per_image']} aten ops per image" in printed
