"""The repository passes its own ruff configuration (ruff.toml)."""
import os.path as osp
import shutil
import subprocess
import sys

REPO = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))


def test_ruff_check_passes():
    ruff = shutil.which('ruff', path=osp.dirname(sys.executable)) or \
        shutil.which('ruff')
    assert ruff, 'ruff is not installed: pip install -r requirements/tests.txt'
    proc = subprocess.run([ruff, 'check', '--no-cache', '.'], cwd=REPO,
                          capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stdout[-4000:] + proc.stderr[-2000:]
