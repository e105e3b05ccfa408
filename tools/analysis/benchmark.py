"""Inference speed at batch 1 (paper Table 1 "fps").

    python tools/analysis/benchmark.py CONFIG [--checkpoint CKPT]
        [--shape H [W]] [--warmup 5] [--iters 50] [--device cuda]
        [--out result.json]

Times the single-image inference of tools/analysis/get_flops.py's wrapper
(backbone, decoders, upsampling and semantic inference; for panoptic configs
up to the upsampled masks and class scores, without the per-segment Python
post-processing) on a random image of the given shape (default: the config's
crop size), synchronising around each run, and prints the median fps.
Without a checkpoint the weights are random, which does not change this
cost.

``--out`` writes the figures as JSON: every timed run's seconds, their
median and the fps (its inverse), the output shapes, and the aten ops one
inference dispatches (``step_measures.OpCounter``, counted in one more,
untimed run; each op is at least one kernel launch on a GPU).
"""
import argparse
import json
import os
import os.path as osp
import statistics
import sys
import time

sys.path.insert(0, osp.dirname(osp.abspath(__file__)))
sys.path.insert(0, osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__)))))

import torch  # noqa: E402
from get_flops import InferenceWrapper, build  # noqa: E402
from mmengine.config import DictAction  # noqa: E402
from mmengine.runner import load_checkpoint  # noqa: E402
from step_measures import OpCounter  # noqa: E402

from mmmaskformer.utils.checkpoint import patch_checkpoint_loading  # noqa: E402


def sync(device):
    if device.startswith('cuda'):
        torch.cuda.synchronize()


def measure(model, shape, device, warmup=5, iters=50) -> dict:
    """Seconds of each timed run, their median, fps, output shapes and
    the ops of one inference."""
    wrapper = InferenceWrapper(model).to(device).eval()
    x = torch.randn(1, 3, *shape, device=device)
    times = []
    with torch.no_grad():
        for i in range(warmup + iters):
            sync(device)
            t0 = time.perf_counter()
            out = wrapper(x)
            sync(device)
            if i >= warmup:
                times.append(time.perf_counter() - t0)
        counter = OpCounter()
        with counter:
            wrapper(x)
    median = statistics.median(times)
    outputs = out if isinstance(out, tuple) else (out, )
    return dict(seconds=times, median_seconds=median, fps=1.0 / median,
                output_shapes=[list(o.shape) for o in outputs],
                ops_per_image=sum(counter.ops.values()))


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
    parser.add_argument('--out', default=None, help='JSON file to write')
    args = parser.parse_args()
    cfg, model = build(args.config, args.cfg_options)
    if args.checkpoint:
        patch_checkpoint_loading()  # weights only; stored configs never run
        load_checkpoint(model, args.checkpoint, map_location='cpu')
    shape = (args.shape[0], args.shape[-1]) if args.shape else tuple(
        cfg.get('crop_size', (512, 512)))
    res = measure(model, shape, args.device, args.warmup, args.iters)
    name = osp.splitext(osp.basename(args.config))[0]
    print(f'{name}: batch 1, input {shape[0]}x{shape[1]}, {args.device}: '
          f'{res["fps"]:.2f} fps (median of {args.iters}), '
          f'{res["ops_per_image"]} aten ops per image')
    if args.out:
        res.update(config=name, shape=list(shape), device=args.device,
                   warmup=args.warmup, iters=args.iters,
                   torch_threads=torch.get_num_threads())
        os.makedirs(osp.dirname(osp.abspath(args.out)), exist_ok=True)
        with open(args.out, 'w') as f:
            json.dump(res, f, indent=2)


if __name__ == '__main__':
    main()
