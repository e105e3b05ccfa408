"""mmengine's ``OptimWrapper``/``AmpOptimWrapper`` that refuse non-finite losses.

Registered in the ``mmmaskformer`` scope under mmengine's names, so every
config's ``optim_wrapper = dict(type='OptimWrapper', ...)`` (and ``--amp``)
gets them. Before the optimizer step, the total loss is checked on every
rank (one all-reduce of a flag, so all ranks agree):

* ``nonfinite_loss='error'`` (default): stop with
  :class:`~.errors.NonFiniteLossError` naming the iteration, the loss terms
  that are not finite (and their values) and the files of the batch;
* ``nonfinite_loss='skip'``: log the same, skip this step (gradients are
  computed, so that DDP's reducer stays in step, then dropped), put back the
  buffers that the skipped forward changed (BatchNorm's running statistics
  and any other), and stop after ``max_nonfinite_skips`` consecutive skipped
  steps. Every rank restores its own buffers, so under DDP a NaN that the
  forward wrote into rank 0's statistics is never broadcast: the weights,
  the optimizer state and the buffers are those of a run without the bad
  batch, bit for bit.

The message is one line. The loss terms and files are captured by a forward
hook while the model runs inside :meth:`optim_context`. On finite steps the
cost is ``torch.isfinite`` on the total, plus, with ``'skip'``, one copy of
the model's buffers per step (taken when :meth:`optim_context` is entered).
"""
import contextlib
import logging
from typing import Dict, Optional

import torch
import torch.distributed as dist
from mmengine.dist import all_gather_object, get_rank
from mmengine.logging import MessageHub, print_log
from mmengine.model import is_model_wrapper
from mmengine.optim import AmpOptimWrapper as MMEngineAmpOptimWrapper
from mmengine.optim import OptimWrapper as MMEngineOptimWrapper

from mmmaskformer.errors import NonFiniteLossError
from mmmaskformer.registry import OPTIM_WRAPPERS

from .bad_sample_counter import stop_on_every_rank

ACTIONS = ('error', 'skip')


def _batch_files(kwargs) -> list:
    samples = kwargs.get('data_samples') or []
    files = []
    for s in samples:
        meta = getattr(s, 'metainfo', {}) or {}
        files.append(str(meta.get('img_path', meta.get('seg_map_path', '?'))))
    return files


class NonFiniteGuard:
    """Mixin: see the module docstring."""

    def _init_guard(self, nonfinite_loss: str, max_nonfinite_skips: int):
        if nonfinite_loss not in ACTIONS:
            raise ValueError(f'optim_wrapper.nonfinite_loss='
                             f'{nonfinite_loss!r}: expected one of {ACTIONS}')
        self.nonfinite_loss = nonfinite_loss
        self.max_nonfinite_skips = int(max_nonfinite_skips)
        self.consecutive_skips = 0
        self.skipped_steps = 0
        self._last_losses: Optional[Dict] = None
        self._last_files: list = []
        self._buffers_before: Dict[str, torch.Tensor] = {}
        self._module = None

    def _snapshot_buffers(self, module) -> None:
        """Copies of the buffers as they are before this step's forward."""
        self._module = module
        self._buffers_before = {
            name: buf.detach().clone()
            for name, buf in module.named_buffers()
        } if self.nonfinite_loss == 'skip' else {}

    @torch.no_grad()
    def _restore_buffers(self) -> None:
        """Undo what the skipped forward did to the buffers."""
        for name, saved in self._buffers_before.items():
            buf = self._module.get_buffer(name)
            if buf.shape == saved.shape and buf.dtype == saved.dtype:
                buf.copy_(saved)
            else:  # the module replaced the tensor: put the old one back
                owner, _, leaf = name.rpartition('.')
                setattr(self._module.get_submodule(owner), leaf, saved)

    @contextlib.contextmanager
    def _capture(self, model):
        module = model.module if is_model_wrapper(model) else model
        self._snapshot_buffers(module)

        def hook(_module, _args, kwargs, output):
            if isinstance(output, dict):
                self._last_losses = output
                self._last_files = _batch_files(kwargs)

        handle = module.register_forward_hook(hook, with_kwargs=True)
        try:
            yield
        finally:
            handle.remove()

    def _all_finite(self, loss: torch.Tensor) -> bool:
        bad = (~torch.isfinite(loss.detach())).any().to(torch.float32)
        if dist.is_available() and dist.is_initialized():
            bad = bad.reshape(1)
            dist.all_reduce(bad, op=dist.ReduceOp.MAX)
        return not bool(bad.item())

    def _describe(self) -> str:
        """One line: the iteration, and per rank with a non-finite term (and
        this rank) the terms and the files of its batch."""
        terms = []
        for k, v in (self._last_losses or {}).items():
            if 'loss' not in k or not isinstance(v, torch.Tensor):
                continue
            if not torch.isfinite(v.detach()).all():
                terms.append(f'{k}={v.detach().float().mean().item()}')
        mine = dict(rank=get_rank(), terms=terms, files=self._last_files)
        parts = []
        for info in all_gather_object(mine):
            if info['terms'] or info['rank'] == get_rank():
                parts.append(
                    f'rank {info["rank"]}: non-finite terms '
                    f'{", ".join(info["terms"]) or "(none)"}; files: '
                    f'{", ".join(info["files"]) or "(unknown)"}')
        it = MessageHub.get_current_instance().get_info('iter')
        it = '?' if it is None else it + 1
        return f'iteration {it}: the loss is not finite ({" | ".join(parts)})'

    def update_params(self, loss: torch.Tensor,
                      step_kwargs: Optional[Dict] = None,
                      zero_kwargs: Optional[Dict] = None) -> None:
        if self._all_finite(loss):
            self.consecutive_skips = 0
            return super().update_params(loss, step_kwargs, zero_kwargs)
        message = self._describe()
        if self.nonfinite_loss == 'error':
            # every rank decided alike (one all-reduce): one line, rank 0's
            raise stop_on_every_rank(NonFiniteLossError(
                f'{message}; set optim_wrapper.nonfinite_loss=\'skip\' to '
                'skip such steps instead'))
        self.consecutive_skips += 1
        self.skipped_steps += 1
        print_log(f'{message}; skipping this optimizer step '
                  f'({self.consecutive_skips} in a row, at most '
                  f'{self.max_nonfinite_skips})', logger='current',
                  level=logging.WARNING)
        # back-propagate anyway so that every rank's DDP reducer finishes
        # the iteration, then drop the gradients without a step
        self.backward(self.scale_loss(loss))
        self.zero_grad(**(zero_kwargs or {}))
        self._restore_buffers()
        if self.consecutive_skips >= self.max_nonfinite_skips:
            raise stop_on_every_rank(NonFiniteLossError(
                f'{self.consecutive_skips} consecutive steps had a '
                f'non-finite loss; the last: {message}'))


@OPTIM_WRAPPERS.register_module()
class FiniteLossOptimWrapper(NonFiniteGuard, MMEngineOptimWrapper):
    """mmengine's ``OptimWrapper`` + ``nonfinite_loss`` ('error' | 'skip')
    and ``max_nonfinite_skips`` (5)."""

    def __init__(self, optimizer, *args, nonfinite_loss: str = 'error',
                 max_nonfinite_skips: int = 5, **kwargs):
        super().__init__(optimizer, *args, **kwargs)
        self._init_guard(nonfinite_loss, max_nonfinite_skips)

    @contextlib.contextmanager
    def optim_context(self, model):
        with super().optim_context(model), self._capture(model):
            yield


@OPTIM_WRAPPERS.register_module()
class FiniteLossAmpOptimWrapper(NonFiniteGuard, MMEngineAmpOptimWrapper):
    """mmengine's ``AmpOptimWrapper`` with the same guard."""

    def __init__(self, *args, nonfinite_loss: str = 'error',
                 max_nonfinite_skips: int = 5, **kwargs):
        super().__init__(*args, **kwargs)
        self._init_guard(nonfinite_loss, max_nonfinite_skips)

    @contextlib.contextmanager
    def optim_context(self, model):
        with super().optim_context(model), self._capture(model):
            yield
