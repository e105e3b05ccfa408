"""2 processes x batch 4 == 1 process x batch 8 (tools/dist_train.sh, gloo).

On 24 generated images (3 global batches of 8, so the sampler matters),
random flips on, frozen BN, the class loss off (its per-rank weighted mean
is a mean of means, as in the official 8-GPU runs) and plain SGD without
clipping, so that a wrong scale on one rank shows in the update. The runs
are those of ``tools/analysis/ddp_equivalence.py``.
"""
import os.path as osp
import sys

REPO = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))

sys.path.insert(0, osp.join(REPO, 'tools', 'analysis'))
import ddp_equivalence  # noqa: E402


def test_two_processes_of_4_equal_one_process_of_8(tmp_path):
    root, config, init = ddp_equivalence.write_setup(str(tmp_path), 24)
    one, two = ddp_equivalence.run_pair(root, config, init, str(tmp_path),
                                        iters=3, port=29541)
    diff = ddp_equivalence.relative_update_difference(init, one, two)
    assert diff <= 1e-3, diff
