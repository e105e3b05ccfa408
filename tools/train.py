"""Train a MaskFormer model (mmseg/mmdet ``tools/train.py`` flags).

    python tools/train.py CONFIG [--work-dir DIR] [--resume [CKPT]]
                                 [--resume-changed] [--amp]
                                 [--cfg-options k=v ...] [--launcher pytorch]
"""
import argparse
import logging
import os
import os.path as osp
import sys

sys.path.insert(0, osp.dirname(osp.dirname(osp.abspath(__file__))))

import torch  # noqa: E402
from mmengine.config import Config, DictAction  # noqa: E402
from mmengine.logging import print_log  # noqa: E402
from mmengine.runner import Runner  # noqa: E402

import mmmaskformer  # noqa: E402,F401  (registers modules, checkpoint loading)
from mmmaskformer.engine.checkpoint_files import find_last_checkpoint  # noqa: E402
from mmmaskformer.errors import CheckpointError  # noqa: E402
from mmmaskformer.registry import RUNNERS  # noqa: E402
from mmmaskformer.utils.checkpoint import checkpoint_problem  # noqa: E402
from mmmaskformer.utils.dist import finalize_process_group  # noqa: E402
from mmmaskformer.utils.tool_config import load_tool_config, stops_with_one_message  # noqa: E402


def parse_args(argv=None):
    parser = argparse.ArgumentParser(description='Train a MaskFormer model')
    parser.add_argument('config', help='train config file path')
    parser.add_argument('--work-dir', help='the dir to save logs and models')
    parser.add_argument(
        '--resume',
        nargs='?',
        type=str,
        const='auto',
        help='resume from CKPT, or from the latest checkpoint in the work '
        'dir when no path is given')
    parser.add_argument(
        '--resume-changed',
        action='store_true',
        help='resume even though the batch size, the dataset length or the '
        'learning rate differ from the checkpoint\'s (warns, not exact)')
    parser.add_argument(
        '--amp', action='store_true', help='mixed-precision training')
    parser.add_argument(
        '--cfg-options',
        nargs='+',
        action=DictAction,
        help='override settings of the config, key=value')
    parser.add_argument(
        '--launcher',
        choices=['none', 'pytorch', 'slurm', 'mpi'],
        default='none',
        help='job launcher')
    parser.add_argument('--local_rank', '--local-rank', type=int, default=0)
    args = parser.parse_args(argv)
    if 'LOCAL_RANK' not in os.environ:
        os.environ['LOCAL_RANK'] = str(args.local_rank)
    return args


def setup_cfg(args) -> Config:
    cfg = load_tool_config(args.config, args.launcher, args.cfg_options,
                           args.work_dir)
    if args.amp:
        optim_wrapper = cfg.optim_wrapper.get('type', 'OptimWrapper')
        amp_of = {'OptimWrapper': 'AmpOptimWrapper',
                  'mmmaskformer.FiniteLossOptimWrapper':
                  'mmmaskformer.FiniteLossAmpOptimWrapper'}
        if optim_wrapper in amp_of.values():
            print_log('AMP training is already enabled in your config.',
                      logger='current', level=logging.WARNING)
        else:
            assert optim_wrapper in amp_of, (
                '`--amp` is only supported when the optimizer wrapper type is '
                f'one of {sorted(amp_of)} but got {optim_wrapper}.')
            if not torch.cuda.is_available():
                raise SystemExit(
                    '--amp needs a GPU: mmengine\'s AmpOptimWrapper runs on '
                    'CUDA/NPU/MLU/MUSA only. Train without --amp on the CPU.')
            cfg.optim_wrapper.type = amp_of[optim_wrapper]
            cfg.optim_wrapper.loss_scale = 'dynamic'
    if args.resume_changed:
        cfg.train_cfg.resume_changed = True
    if args.resume == 'auto':
        # the newest *complete* checkpoint where the checkpoint hook writes
        # (its out_dir and filename_tmpl; last_checkpoint only as a hint)
        path, passed_over = find_last_checkpoint(cfg)
        for line in passed_over:
            print_log(line, logger='current', level=logging.WARNING)
        if path is None:
            print_log('--resume: no complete checkpoint of this run; '
                      'training from the start', logger='current',
                      level=logging.WARNING)
        cfg.resume = path is not None
        cfg.load_from = path
    elif args.resume is not None:
        problem = checkpoint_problem(args.resume)
        if problem is not None:
            raise CheckpointError(f'--resume {args.resume}: {problem}')
        cfg.resume = True
        cfg.load_from = args.resume
    return cfg


def main(argv=None):
    args = parse_args(argv)
    with stops_with_one_message(log=True):
        cfg = setup_cfg(args)
        if 'runner_type' not in cfg:
            runner = Runner.from_cfg(cfg)
        else:
            runner = RUNNERS.build(cfg)
        runner.train()
    finalize_process_group()


if __name__ == '__main__':
    main()
