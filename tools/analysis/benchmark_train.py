"""Training-step benchmark: our MaskFormer against mmseg's (mmdet's head),
in one process, alternating A/B, at equal weights and inputs.

    python tools/analysis/benchmark_train.py [--size 256] [--batch 2]
        [--segments 15] [--iters 5] [--warmup 1] [--device cpu|cuda]
        [--model r50|swin-l] [--ours-config CONFIG] [--check-losses]
        [--out results.json]

``--model r50``: ``configs/maskformer_r50_ade20k.py`` against mmseg's
``maskformer_r50-d32_8xb2-160k_ade20k-512x512.py`` (FrozenBN on both
sides); ``--model swin-l``: our Swin-L config against mmseg's Swin-S
MaskFormer config given Swin-L's backbone (mmseg ships no Swin-L
MaskFormer). The baseline receives our weights, the same images and the same
random label maps of ``--segments`` classes per image.

``--model mask2former-r50``: our ``configs/mask2former_r50_coco-panoptic.py``
against mmdet's own ``mask2former_r50_8xb2-lsj-50e_coco-panoptic.py`` (133
classes, 100 queries), our weights through
``mmmaskformer/converters/mmdet_mask2former.py``, the same panoptic batch of
``--segments`` Voronoi cells per image (two thirds thing instances); the 30
loss terms are always compared under the same random points (ours
recorded, replayed into mmdet's head: ``train_benchmark/point_replay.py``).

Printed and written (``--out``, JSON): per model the medians over the timed
iterations of every phase of the step (``train_benchmark/phases.py``) and
the mmseg/ours ratios; one step each measured device-independently:
dispatched aten ops and host-device syncs per phase, peak memory by kind
(``step_measures.py``). ``--check-losses`` first compares the 18 loss terms
with dropout off, with each side's own matching and with ours under the
baseline's assignment. The code is the package ``train_benchmark/``.
"""
import argparse
import json
import os
import os.path as osp
import sys

HERE = osp.dirname(osp.abspath(__file__))
sys.path[:0] = [HERE, osp.dirname(osp.dirname(HERE))]

from train_benchmark.ab_run import run  # noqa: E402
from train_benchmark.report import lines  # noqa: E402


def parse_args(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('--size', type=int, default=256)
    parser.add_argument('--batch', type=int, default=2)
    parser.add_argument('--segments', type=int, default=15)
    parser.add_argument('--iters', type=int, default=5)
    parser.add_argument('--warmup', type=int, default=1)
    parser.add_argument('--device', default=None,
                        help='default: cuda when available, else cpu')
    parser.add_argument('--model', choices=['r50', 'swin-l', 'mask2former-r50'],
                        default='r50')
    parser.add_argument(
        '--ours-config', default=None,
        help='our side (e.g. configs/maskformer_r50-pointsample_ade20k.py '
        'for the memory-efficient mode)')
    parser.add_argument('--check-losses', action='store_true')
    parser.add_argument('--out', default=None, help='JSON file to write')
    args = parser.parse_args(argv)
    if args.iters < 1 or args.warmup < 0:
        parser.error('--iters must be >= 1 and --warmup >= 0')
    return args


def main(argv=None):
    args = parse_args(argv)
    result = run(model=args.model, size=args.size, batch=args.batch,
                 segments=args.segments, iters=args.iters,
                 warmup=args.warmup, device=args.device,
                 ours_config=args.ours_config, loss_check=args.check_losses)
    print('\n'.join(lines(result)))
    if args.out:
        os.makedirs(osp.dirname(osp.abspath(args.out)), exist_ok=True)
        with open(args.out, 'w') as f:
            json.dump(result, f, indent=2)


if __name__ == '__main__':
    main()
