"""Distributed start-up on machines without a GPU."""
import os

import torch
import torch.distributed as dist


def init_cpu_process_group(launcher: str) -> bool:
    """Start a gloo process group for ``--launcher pytorch`` on CPU.

    mmengine's ``init_dist`` calls ``torch.cuda.set_device`` unconditionally,
    which fails on a machine without a GPU. When no GPU is visible we
    initialise the group ourselves (``env://``, as torchrun sets it up);
    mmengine's Runner then finds it initialised and uses it.
    Returns whether a group was started.
    """
    if launcher != 'pytorch' or torch.cuda.is_available() or \
            dist.is_initialized() or 'RANK' not in os.environ:
        return False
    dist.init_process_group(backend='gloo')
    return True


def finalize_process_group() -> None:
    """Wait for every rank, then tear the process group down.

    mmengine never destroys it; with gloo on CPU a rank that reaches
    interpreter exit while the group's threads are alive can abort
    (``terminate called without an active exception``) after a run that
    otherwise finished, failing the launcher.
    """
    if dist.is_available() and dist.is_initialized():
        dist.barrier()
        dist.destroy_process_group()
