"""Plot loss and metric curves of runs from their ``scalars.json``.

    python tools/analysis/analyze_logs.py work_dirs/demo/train \
        --keys loss mIoU --out work_dirs/demo/curves.png
    python tools/analysis/analyze_logs.py RUN_A RUN_B --keys decode.loss_ce \
        --legend exact pointsample --out ce.png

Each argument is a ``scalars.json`` (mmengine's ``LocalVisBackend`` writes
``<work_dir>/<timestamp>/vis_data/scalars.json``) or a work dir, where the
newest one is used. One subplot per key, one line per run, against the
iteration (``step``). mmseg's and mmdet's ``analyze_logs.py`` need seaborn,
which this stack does not install; this one needs matplotlib only (an mmseg
dependency) and renders without a display.
"""
import argparse
import glob
import json
import os.path as osp
from collections import defaultdict
from typing import Dict, List, Tuple


def find_scalars(path: str) -> str:
    if osp.isfile(path):
        return path
    found = glob.glob(osp.join(path, '**', 'vis_data', 'scalars.json'),
                      recursive=True)
    if not found:
        raise FileNotFoundError(f'{path}: no */vis_data/scalars.json under '
                                'it (is it a work dir of a run?)')
    return max(found, key=osp.getmtime)


def load_scalars(path: str) -> Dict[str, List[Tuple[int, float]]]:
    """key -> [(step, value)] of one ``scalars.json`` (one JSON per line)."""
    series = defaultdict(list)
    with open(path) as f:
        for number, line in enumerate(f, start=1):
            if not line.strip():
                continue
            try:
                row = json.loads(line)
            except json.JSONDecodeError as e:
                raise ValueError(f'{path}, line {number}: not JSON ({e})') \
                    from None
            step = row.get('step', row.get('iter'))
            for key, value in row.items():
                if key not in ('step', 'iter', 'epoch') and isinstance(
                        value, (int, float)):
                    series[key].append((step, float(value)))
    return dict(series)


def plot(runs: Dict[str, Dict[str, list]], keys: List[str], out: str,
         title: str = None) -> str:
    import matplotlib
    matplotlib.use('Agg')
    import matplotlib.pyplot as plt
    fig, axes = plt.subplots(len(keys), 1, figsize=(8, 3 * len(keys)),
                             squeeze=False)
    for ax, key in zip(axes[:, 0], keys):
        for name, series in runs.items():
            points = series[key]
            ax.plot([s for s, _ in points], [v for _, v in points],
                    marker='o' if len(points) < 20 else None, label=name)
        ax.set_xlabel('iteration')
        ax.set_ylabel(key)
        ax.grid(alpha=0.3)
        ax.legend()
    if title:
        fig.suptitle(title)
    fig.tight_layout()
    fig.savefig(out)
    plt.close(fig)
    return out


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('runs', nargs='+',
                        help='scalars.json files or work dirs')
    parser.add_argument('--keys', nargs='+', default=['loss'])
    parser.add_argument('--legend', nargs='+', default=None)
    parser.add_argument('--title', default=None)
    parser.add_argument('--out', default='curves.png')
    args = parser.parse_args(argv)
    paths = [find_scalars(r) for r in args.runs]
    names = args.legend or paths
    if len(names) != len(paths):
        parser.error(f'--legend has {len(names)} names for {len(paths)} runs')
    runs = {}
    for name, path in zip(names, paths):
        series = load_scalars(path)
        missing = [k for k in args.keys if k not in series]
        if missing:
            parser.error(f'{path} has no {missing}; it has: '
                         f'{sorted(series)}')
        runs[name] = series
    out = plot(runs, args.keys, args.out, args.title)
    print(f'{out}: {", ".join(args.keys)} of {len(runs)} run(s)')
    return out


if __name__ == '__main__':
    main()
