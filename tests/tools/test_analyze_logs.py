"""tools/analysis/analyze_logs.py renders the curves of a run's
scalars.json to a PNG."""
import json
import os.path as osp
import sys

import cv2
import pytest

REPO = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
sys.path.insert(0, osp.join(REPO, 'tools', 'analysis'))
from analyze_logs import load_scalars, main  # noqa: E402


def _run(tmp_path, name, losses):
    vis = tmp_path / name / '20261202_000000' / 'vis_data'
    vis.mkdir(parents=True)
    rows = [dict(lr=1e-4, loss=v, iter=i, step=i) for i, v in losses]
    rows.append(dict(mIoU=50.0 + len(losses), aAcc=90.0, step=losses[-1][0]))
    (vis / 'scalars.json').write_text(
        '\n'.join(json.dumps(r) for r in rows) + '\n')
    return str(tmp_path / name)


def test_curves_png_from_work_dirs(tmp_path):
    a = _run(tmp_path, 'a', [(10, 3.0), (20, 2.0), (30, 1.5)])
    b = _run(tmp_path, 'b', [(10, 2.5), (20, 1.0)])
    series = load_scalars(osp.join(a, '20261202_000000', 'vis_data',
                                   'scalars.json'))
    assert series['loss'] == [(10, 3.0), (20, 2.0), (30, 1.5)]
    assert series['mIoU'] == [(30, 53.0)]
    out = str(tmp_path / 'curves.png')
    assert main([a, b, '--keys', 'loss', 'mIoU', '--legend', 'A', 'B',
                 '--out', out]) == out
    img = cv2.imread(out)
    assert img is not None and img.shape[:2] == (600, 800)  # 8 x 3 in per key, 100 dpi
    assert img.std() > 1  # something was drawn


def test_unknown_key_names_the_available_ones(tmp_path, capsys):
    a = _run(tmp_path, 'a', [(10, 3.0)])
    with pytest.raises(SystemExit):
        main([a, '--keys', 'los', '--out', str(tmp_path / 'x.png')])
    err = capsys.readouterr().err
    assert "has no ['los']" in err and "'loss'" in err
    with pytest.raises(FileNotFoundError, match='no \\*/vis_data'):
        main([str(tmp_path / 'nothing')])
