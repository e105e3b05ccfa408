"""tools/analysis: complexity and speed scripts run and report Table 1."""
import os.path as osp
import subprocess
import sys

import pytest

REPO = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
sys.path.insert(0, osp.join(REPO, 'tools', 'analysis'))


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


def test_benchmark_runs():
    proc = subprocess.run(
        [sys.executable, 'tools/analysis/benchmark.py',
         'configs/maskformer_r18-tiny_synthetic-64x64.py', '--iters', '3',
         '--warmup', '1'], cwd=REPO, capture_output=True, text=True,
        timeout=300)
    assert proc.returncode == 0, proc.stderr[-2000:]
    assert 'fps' in proc.stdout


def test_benchmark_train_matches_mmseg_losses(tmp_path):
    """The A/B harness runs, and at equal weights and inputs our 18 loss
    terms equal those of mmseg's MaskFormer (mmdet's head) within 1e-4."""
    import json
    out = tmp_path / 'bench.json'
    proc = subprocess.run(
        [sys.executable, 'tools/analysis/benchmark_train.py', '--size', '64',
         '--iters', '1', '--warmup', '0', '--check-losses', '--out',
         str(out)], cwd=REPO, capture_output=True, text=True, timeout=600)
    assert proc.returncode == 0, proc.stderr[-3000:]
    res = json.loads(out.read_text())
    assert len(res['loss_check']['ours']) == 18
    assert res['loss_check']['max_abs_diff'] < 1e-4
    # under the baseline's assignment (here the same as ours) too
    assert res['loss_check']['layers_images_assigned_differently'] == []
    assert res['loss_check']['max_abs_diff_same_assignment'] < 1e-4
    forced = res['loss_check']['ours_under_baseline_assignment']
    assert all(abs(forced[k] - v) < 1e-5
               for k, v in res['loss_check']['ours'].items())
    for side in ('ours', 'baseline'):
        assert res['median_seconds'][side]['total'] > 0
