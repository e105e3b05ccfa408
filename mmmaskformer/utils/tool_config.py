"""Set-up shared by the tools: config loading, and stopping with one
message."""
import contextlib
import os.path as osp
import sys

import torch
from mmengine.config import Config

from .cfg_options import check_cfg_options
from .dist import finalize_process_group, init_cpu_process_group


def load_tool_config(config: str, launcher: str = 'none',
                     cfg_options=None, work_dir=None) -> Config:
    """Load ``config`` as mmseg's tools do (``--cfg-options``, ``--work-dir``,
    default ``./work_dirs/<config name>``), and make ``--launcher pytorch``
    work on machines without a GPU: gloo instead of NCCL, DDP without device
    ids, and a process group started before mmengine's (whose ``init_dist``
    needs CUDA).
    """
    cfg = Config.fromfile(config)
    cfg.launcher = launcher
    if cfg_options is not None:
        # a key nothing would read is an error, not a silent no-op
        check_cfg_options(cfg, cfg_options)
        cfg.merge_from_dict(cfg_options)
    if work_dir is not None:
        cfg.work_dir = work_dir
    elif cfg.get('work_dir', None) is None:
        cfg.work_dir = osp.join('./work_dirs',
                                osp.splitext(osp.basename(config))[0])
    if launcher != 'none' and not torch.cuda.is_available():
        cfg.setdefault('env_cfg', {})
        cfg.env_cfg['dist_cfg'] = dict(backend='gloo')
        cfg.setdefault('model_wrapper_cfg', dict(
            type='MMDistributedDataParallel', device_ids=None))
        init_cpu_process_group(launcher)
    return cfg


def build_dataset(config: str, cfg_options=None, split: str = 'test'):
    """(dataset of ``<split>_dataloader``, config), built in the config's
    scope (ours): mmseg's and mmdet's analysis tools build datasets in
    their own registries, where our dataset types do not exist."""
    from mmengine.registry import init_default_scope

    from mmmaskformer.registry import DATASETS
    cfg = load_tool_config(config, cfg_options=cfg_options)
    init_default_scope(cfg.get('default_scope', 'mmmaskformer'))
    return DATASETS.build(cfg[f'{split}_dataloader'].dataset), cfg


@contextlib.contextmanager
def stops_with_one_message(log: bool = False):
    """A ``RunStopped`` (bad sample, non-finite loss, bad checkpoint) ends
    the tool with one ``ERROR (...)`` line on stderr and exit status 1, no
    traceback (README: Reliability); ``log`` also writes it to the run's
    log. An error that every rank of a distributed run raised alike
    (``same_on_every_rank``) is printed by rank 0 only, and the process
    group is torn down on every rank before the exit."""
    from mmmaskformer.errors import RunStopped
    try:
        yield
    except RunStopped as e:
        if getattr(e, 'same_on_every_rank', False) and _rank() > 0:
            # every rank stopped alike: rank 0 says it, the others end
            # with it, after the group is torn down on every rank
            finalize_process_group()
            raise SystemExit(1)
        if log:
            import logging

            from mmengine.logging import print_log
            print_log(f'{type(e).__name__}: {e}', logger='current',
                      level=logging.ERROR)
        print(f'\nERROR ({type(e).__name__}): {e}', file=sys.stderr)
        if getattr(e, 'same_on_every_rank', False):
            finalize_process_group()
        raise SystemExit(1)


def _rank() -> int:
    import torch.distributed as dist
    return dist.get_rank() if dist.is_available() and \
        dist.is_initialized() else 0
