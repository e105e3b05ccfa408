"""2 processes x batch 4 == 1 process x batch 8 (tools/dist_train.sh, gloo).

On 24 generated images (3 global batches of 8, so the sampler matters),
random flips on, frozen BN, the class loss off (its per-rank weighted mean
is a mean of means, as in the official 8-GPU runs) and plain SGD without
clipping, so that a wrong scale on one rank shows in the update. The run is
``tools/analysis/ddp_equivalence.py``'s, as a fresh process.
"""
import json
import re

import pytest


@pytest.mark.slow
def test_two_processes_of_4_equal_one_process_of_8(tmp_path, run_tool):
    out = run_tool(['tools/analysis/ddp_equivalence.py', '--work-dir',
                    str(tmp_path), '--variants', 'ours'])
    with open(tmp_path / 'results.json') as f:
        results = json.load(f)
    assert results['images'] == 24 and results['iters'] == 3
    diff = results['results']['ours']
    assert diff <= 1e-3, diff
    (printed, ) = re.findall(r'ours: relative difference of the updates, '
                             r'2x4 vs 1x8: ([\d.e+-]+)', out)
    assert float(printed) == float(f'{diff:.3g}')
