"""Inference speed at batch 1 (paper Table 1 "fps").

    python tools/analysis/benchmark.py CONFIG [--checkpoint CKPT]
        [--shape H [W]] [--warmup 5] [--iters 50] [--device cuda]

Times the single-image inference of tools/analysis/get_flops.py's wrapper
(backbone, decoders, upsampling and semantic inference; for panoptic configs
up to the upsampled masks and class scores, without the per-segment Python
post-processing) on a random image of the given shape (default: the config's
crop size), synchronising around each run, and prints the median fps.
Without a checkpoint the weights are random, which does not change this
cost.
"""
import argparse
import os.path as osp
import statistics
import sys
import time

sys.path.insert(0, osp.dirname(osp.abspath(__file__)))
sys.path.insert(0, osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__)))))

import torch  # noqa: E402
from mmengine.config import DictAction  # noqa: E402
from mmengine.runner import load_checkpoint  # noqa: E402

from get_flops import InferenceWrapper, build  # noqa: E402


def sync(device):
    if device.startswith('cuda'):
        torch.cuda.synchronize()


def measure(model, shape, device, warmup=5, iters=50):
    wrapper = InferenceWrapper(model).to(device).eval()
    x = torch.randn(1, 3, *shape, device=device)
    times = []
    with torch.no_grad():
        for i in range(warmup + iters):
            sync(device)
            t0 = time.perf_counter()
            wrapper(x)
            sync(device)
            if i >= warmup:
                times.append(time.perf_counter() - t0)
    return 1.0 / statistics.median(times)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('config')
    parser.add_argument('--checkpoint', default=None)
    parser.add_argument('--shape', type=int, nargs='+', default=None)
    parser.add_argument('--warmup', type=int, default=5)
    parser.add_argument('--iters', type=int, default=50)
    parser.add_argument(
        '--device', default='cuda' if torch.cuda.is_available() else 'cpu')
    parser.add_argument('--cfg-options', nargs='+', action=DictAction)
    args = parser.parse_args()
    cfg, model = build(args.config, args.cfg_options)
    if args.checkpoint:
        load_checkpoint(model, args.checkpoint, map_location='cpu')
    shape = (args.shape[0], args.shape[-1]) if args.shape else tuple(
        cfg.get('crop_size', (512, 512)))
    fps = measure(model, shape, args.device, args.warmup, args.iters)
    name = osp.splitext(osp.basename(args.config))[0]
    print(f'{name}: batch 1, input {shape[0]}x{shape[1]}, {args.device}: '
          f'{fps:.2f} fps (median of {args.iters})')


if __name__ == '__main__':
    main()
