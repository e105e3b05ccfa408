"""Run a MaskFormer checkpoint on one image and draw the result.

    python demo/image_demo.py IMG CONFIG CKPT --out-file out.png \
        [--task semantic|panoptic|instance] [--device cpu] [--opacity 0.5] \
        [--threshold T] [--title NAME]

The flags of mmseg's ``demo/image_demo.py``, plus ``--task`` and
``--threshold``. CONFIG may be a path or the name of a config in
``configs/``. Built on :class:`mmmaskformer.apis.MaskFormerInferencer`.
"""
import argparse
import os.path as osp
import sys

DEMO = osp.dirname(osp.abspath(__file__))
sys.path[:0] = [osp.dirname(DEMO), DEMO]  # the package, and build_inferencer

import mmcv  # noqa: E402


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('img')
    parser.add_argument('config')
    parser.add_argument('checkpoint')
    parser.add_argument('--out-file', default=None)
    parser.add_argument('--task', default=None,
                        help='semantic, panoptic or instance (the task table '
                        'of mmmaskformer.apis.tasks); default: what the '
                        'config was trained for')
    parser.add_argument('--device', default='cpu')
    parser.add_argument('--opacity', type=float, default=0.5)
    parser.add_argument('--threshold', type=float, default=None,
                        help='panoptic: keep queries above this score')
    parser.add_argument('--with-labels', action='store_true',
                        help='(accepted for mmseg compatibility; labels are '
                        'drawn by the config\'s visualizer)')
    parser.add_argument('--title', default='result')
    parser.add_argument('--show', action='store_true')
    args = parser.parse_args(argv)
    if not osp.isfile(args.img) or mmcv.imread(args.img) is None:
        raise SystemExit(f'{args.img}: not a readable image')
    from build_inferencer import build_inferencer  # imports the package
    inferencer = build_inferencer(args)
    out = inferencer(args.img, task=args.task, threshold=args.threshold,
                     return_vis=True, show=args.show)
    if args.out_file:
        mmcv.imwrite(out['visualization'][0][..., ::-1], args.out_file)
        print(f'{args.out_file}: {args.task or inferencer.default_task} '
              f'result of {args.img}')
    return out


if __name__ == '__main__':
    main()
