"""The bad-sample policy under DDP: 2 processes through tools/dist_train.sh
(torchrun, gloo on the CPU).

Unshuffled, rank ``r`` of 2 draws positions ``r, r + 2, ...``, so the bad
sample (index 3 of 4) is drawn by rank 1, whose logger writes no file:

* ``'skip'``: rank 0's log file names the file, the reason and rank 1;
* ``'error'``: the run ends with exactly one ``ERROR (BadSampleError)``
  line naming the file and rank 1, and no traceback from the other rank
  or from torchrun.
"""
import glob
import os
import os.path as osp
import subprocess
import sys

import pytest

pytestmark = pytest.mark.slow

REPO = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))


def dist_train(config, work, opts, port):
    env = dict(os.environ, PYTHON=sys.executable, PORT=str(port),
               OMP_NUM_THREADS='1', PYTHONUNBUFFERED='1')
    proc = subprocess.run(
        ['bash', 'tools/dist_train.sh', config, '2', '--work-dir', work,
         '--cfg-options'] + opts, cwd=REPO, env=env, capture_output=True,
        text=True, timeout=600)
    return proc.returncode, proc.stdout + proc.stderr


@pytest.fixture
def root(tmp_path, bad_inputs):
    return bad_inputs.write_semantic_root(str(tmp_path / 'data'),
                                          ['img_not_an_image'], good=3)


def options(data_options, root, *extra):
    return data_options(root, 2, batch_size=2) + [
        'train_dataloader.sampler.shuffle=False'] + list(extra)


def test_skip_on_rank_1_reaches_the_log_file(tmp_path, root, tiny_config,
                                             data_options):
    work = str(tmp_path / 'skip')
    rc, out = dist_train(tiny_config, work, options(
        data_options, root, 'train_cfg.max_bad_fraction=1.0'), 29571)
    assert rc == 0, out[-3000:]
    (log_file, ) = glob.glob(osp.join(work, '*', '*.log'))
    with open(log_file, encoding='utf-8') as f:
        log = f.read()
    bad = osp.join(root, 'img_dir', 'train', 'img_not_an_image.png')
    line = [ln for ln in log.splitlines() if bad in ln and 'rank 1' in ln]
    assert line and 'not an image' in line[0], log[-3000:]
    assert 'skipped 1 bad sample(s), 1 of 5 drawn so far' in log


def test_error_on_rank_1_stops_with_one_line(tmp_path, root, tiny_config,
                                             data_options, stopped_cleanly):
    rc, out = dist_train(str(tiny_config), str(tmp_path / 'error'), options(
        data_options, root, 'train_cfg.bad_sample=error'), 29573)
    assert rc == 1, out[-3000:]
    assert out.count('ERROR (BadSampleError)') == 1, out[-3000:]
    msg = stopped_cleanly(out, 'BadSampleError')
    assert 'img_not_an_image.png' in msg and '(rank 1)' in msg
