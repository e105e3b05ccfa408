"""Score a checkpoint (mmseg ``tools/test.py`` flags; panoptic configs too).

    python tools/test.py CONFIG CHECKPOINT [--work-dir DIR] [--out DIR]
        [--show] [--show-dir DIR] [--tta] [--cfg-options k=v ...]
        [--launcher pytorch]

``--out DIR`` writes the predictions (semantic: PNG label maps through
``IoUMetric(output_dir=...)``; panoptic: PNG + JSON in COCO panoptic format).
"""
import argparse
import os
import os.path as osp
import sys

sys.path.insert(0, osp.dirname(osp.dirname(osp.abspath(__file__))))

from mmengine.config import Config, DictAction  # noqa: E402
from mmengine.runner import Runner  # noqa: E402

import mmmaskformer  # noqa: E402,F401
from mmmaskformer.errors import CheckpointError  # noqa: E402
from mmmaskformer.registry import RUNNERS  # noqa: E402
from mmmaskformer.utils.dist import finalize_process_group  # noqa: E402
from mmmaskformer.utils.tool_config import load_tool_config, stops_with_one_message  # noqa: E402


def parse_args(argv=None):
    parser = argparse.ArgumentParser(description='Test (and eval) a model')
    parser.add_argument('config', help='test config file path')
    parser.add_argument('checkpoint', help='checkpoint file')
    parser.add_argument(
        '--work-dir', help='the dir to save the file containing metrics')
    parser.add_argument(
        '--out', type=str, help='the directory to save the predictions')
    parser.add_argument('--show', action='store_true', help='show results')
    parser.add_argument(
        '--show-dir', help='directory where painted images will be saved')
    parser.add_argument(
        '--wait-time', type=float, default=2, help='the interval of show (s)')
    parser.add_argument(
        '--cfg-options', nargs='+', action=DictAction,
        help='override settings of the config, key=value')
    parser.add_argument(
        '--launcher', choices=['none', 'pytorch', 'slurm', 'mpi'],
        default='none', help='job launcher')
    parser.add_argument(
        '--tta', action='store_true', help='test-time augmentation')
    parser.add_argument('--local_rank', '--local-rank', type=int, default=0)
    args = parser.parse_args(argv)
    if 'LOCAL_RANK' not in os.environ:
        os.environ['LOCAL_RANK'] = str(args.local_rank)
    return args


def trigger_visualization_hook(cfg, args):
    default_hooks = cfg.default_hooks
    if 'visualization' not in default_hooks:
        raise RuntimeError(
            'VisualizationHook must be included in default_hooks to use '
            '--show or --show-dir; add it to the config.')
    hook = default_hooks['visualization']
    hook['draw'] = True
    hook['interval'] = 1  # every test image, not every 50th
    if args.show:
        hook['show'] = True
        hook['wait_time'] = args.wait_time
    if args.show_dir:
        if hook.get('type', '').endswith('DetVisualizationHook'):
            hook['test_out_dir'] = osp.abspath(args.show_dir)  # mmdet's way
        else:
            cfg.visualizer['save_dir'] = args.show_dir  # mmseg's way
    return cfg


def setup_cfg(args) -> Config:
    if not osp.isfile(args.checkpoint):  # truncation etc.: named on load
        raise CheckpointError(f'checkpoint {args.checkpoint}: no such file')
    cfg = load_tool_config(args.config, args.launcher, args.cfg_options,
                           args.work_dir)
    cfg.load_from = args.checkpoint
    if args.show or args.show_dir:
        cfg = trigger_visualization_hook(cfg, args)
    if args.tta:
        if 'tta_model' not in cfg or 'tta_pipeline' not in cfg:
            raise KeyError(f'{args.config} defines no tta_model/tta_pipeline')
        cfg.test_dataloader.dataset.pipeline = cfg.tta_pipeline
        cfg.tta_model.module = cfg.model
        cfg.tta_model.module.setdefault('_scope_', cfg.default_scope)
        cfg.model = cfg.tta_model
    if args.out is not None:
        evaluators = cfg.test_evaluator if isinstance(
            cfg.test_evaluator, list) else [cfg.test_evaluator]
        for evaluator in evaluators:
            if 'Panoptic' in evaluator['type']:
                evaluator['outfile_prefix'] = osp.join(args.out, 'panoptic')
            else:
                evaluator['output_dir'] = args.out
                evaluator['keep_results'] = True
    return cfg


def main(argv=None):
    args = parse_args(argv)
    with stops_with_one_message():
        cfg = setup_cfg(args)
        runner = Runner.from_cfg(cfg) if 'runner_type' not in cfg \
            else RUNNERS.build(cfg)
        metrics = runner.test()
    finalize_process_group()
    return metrics


if __name__ == '__main__':
    main()
