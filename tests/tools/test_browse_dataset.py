"""tools/analysis/browse_dataset.py draws the training pipeline's images
with their ground truth, for our semantic and panoptic dataset types."""
import os.path as osp
import sys

import cv2
import numpy as np
import pytest

from mmmaskformer.datasets import generate_synthetic_dataset

REPO = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
sys.path.insert(0, osp.join(REPO, 'tools', 'analysis'))
SEMANTIC = osp.join(REPO, 'configs', 'maskformer_r18-tiny_synthetic-64x64.py')
PANOPTIC = osp.join(REPO, 'configs',
                    'maskformer_r18-tiny_synthetic-panoptic-64x64.py')


@pytest.mark.parametrize('config', [SEMANTIC, PANOPTIC],
                         ids=['semantic', 'panoptic'])
def test_browse_draws_ground_truth(tmp_path, config):
    from browse_dataset import main
    root = generate_synthetic_dataset(str(tmp_path / 'syn'), num_train=3,
                                      num_val=1, progress=False)
    written = main([config, '--output-dir', str(tmp_path / 'out'), '--max',
                    '2', '--cfg-options',
                    f'train_dataloader.dataset.data_root={root}'])
    assert len(written) == 2
    for path in written:
        drawn = cv2.imread(path)
        raw = cv2.imread(osp.join(root, 'img_dir', 'train',
                                  osp.basename(path)))
        assert drawn is not None and drawn.shape[2] == 3
        # the ground truth is drawn over the image (flips aside, the
        # drawing differs from the raw image)
        if drawn.shape == raw.shape:
            assert np.abs(drawn.astype(int) - raw).mean() > 1
        else:
            assert drawn.shape[0] >= raw.shape[0]


@pytest.mark.slow
def test_mmseg_print_config_prints_ours(tmp_path):
    """mmseg's own print_config.py works with our configs (it also dumps
    the config to example.py in the working directory)."""
    import subprocess

    import mmseg
    script = osp.join(osp.dirname(mmseg.__file__), '.mim', 'tools', 'misc',
                      'print_config.py')
    proc = subprocess.run([sys.executable, script, PANOPTIC], cwd=tmp_path,
                          capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stderr[-2000:]
    assert "type='mmmaskformer.MaskFormerPanoptic'" in proc.stdout
    assert "default_scope = 'mmmaskformer'" in proc.stdout
    assert (tmp_path / 'example.py').is_file()
