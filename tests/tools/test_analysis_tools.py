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
