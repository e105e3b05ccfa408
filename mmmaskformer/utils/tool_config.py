"""Set-up shared by the tools: config loading, and stopping with one
message."""
import contextlib
import os.path as osp
import sys

import torch
from mmengine.config import Config

from .dist import init_cpu_process_group


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


@contextlib.contextmanager
def stops_with_one_message(log: bool = False):
    """A ``RunStopped`` (bad sample, non-finite loss, bad checkpoint) ends
    the tool with one ``ERROR (...)`` line on stderr and exit status 1, no
    traceback (README: Reliability); ``log`` also writes it to the run's
    log."""
    from mmmaskformer.engine.errors import RunStopped
    try:
        yield
    except RunStopped as e:
        if log:
            import logging

            from mmengine.logging import print_log
            print_log(f'{type(e).__name__}: {e}', logger='current',
                      level=logging.ERROR)
        print(f'\nERROR ({type(e).__name__}): {e}', file=sys.stderr)
        raise SystemExit(1)
