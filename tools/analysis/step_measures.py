"""Device-independent measures of a training step: memory by kind, dispatched
ops and host-device syncs, per phase.

Used by the training-step benchmark (``train_benchmark/measures.py``) and
``benchmark.py``; the functions work on any model.

* :class:`MemoryTracker`: torch's ``MemTracker`` (peak parameter, buffer,
  gradient, optimizer-state, activation and temporary memory) that also
  works with frozen parameters (``requires_grad=False``: torch's tracker
  registers a gradient hook on every parameter, which fails on those).
* :class:`OpCounter`: a ``TorchDispatchMode`` counting dispatched aten ops
  (each at least one kernel launch on a GPU) and sync points by kind, per
  phase, plus a ``TorchFunctionMode`` for device-to-host transfers
  (``.cpu()``, ``.tolist()``; ``.to(device)`` is not counted), which on a CPU
  tensor dispatch nothing but on a GPU stall it.

Sync kinds: ``item`` (``_local_scalar_dense``), ``nonzero``, ``unique``,
``bool_index`` (indexing or ``index_put_`` with a boolean mask),
``masked_select``, ``d2h`` (a transfer to the host).
"""
import contextlib
from collections import Counter, defaultdict

import torch
from torch.distributed._tools.mem_tracker import MemTracker, _MemRefType
from torch.overrides import TorchFunctionMode
from torch.utils._python_dispatch import TorchDispatchMode

aten = torch.ops.aten

SYNC_OPS = {
    aten._local_scalar_dense.default: 'item',
    aten.nonzero.default: 'nonzero',
    aten.nonzero_static.default: 'nonzero',
    aten._unique2.default: 'unique',
    aten.unique_dim.default: 'unique',
    aten.unique_consecutive.default: 'unique',
    aten._unique.default: 'unique',
    aten.masked_select.default: 'masked_select',
}
D2H_FUNCTIONS = {'cpu', 'tolist'}  # .item() dispatches: 'item'


class MemoryTracker(MemTracker):
    """torch's MemTracker; frozen parameters get no gradient hook."""

    def _track_module_params_and_buffers(self, module, install_grad_hooks=True):
        result = super()._track_module_params_and_buffers(
            module, install_grad_hooks=False)
        if not install_grad_hooks:
            return result

        def _grad_hook(grad):
            self._update_and_maybe_create_winfos(grad, _MemRefType.GRAD)

        for param in module.parameters():
            if not param.requires_grad or \
                    self._param_to_grad_hook_handles.get(param) is not None:
                continue
            self._param_to_grad_hook_handles[param] = (
                param.register_hook(_grad_hook),
                param.register_post_accumulate_grad_hook(
                    lambda p: _grad_hook(p.grad)))
        return result

    def peak_by_kind(self, device=None) -> dict:
        """Bytes at the overall peak: {kind: bytes, 'Total': bytes}."""
        snap = self.get_tracker_snapshot('peak')
        if device is None:
            device = next(iter(snap))
        return {getattr(k, 'value', str(k)): v
                for k, v in snap[device].items()}


def _is_bool_index(func, args) -> bool:
    if func in (aten.index.Tensor, aten.index_put_.default,
                aten.index_put.default, aten._index_put_impl_.default):
        indices = args[1] if len(args) > 1 else []
        return any(isinstance(i, torch.Tensor) and i.dtype == torch.bool
                   for i in indices if i is not None)
    return False


class _D2H(TorchFunctionMode):

    def __init__(self, counter):
        super().__init__()
        self.counter = counter

    def __torch_function__(self, func, types, args=(), kwargs=None):
        # ``.to(device)`` is left out: on a CPU run a host-to-device copy
        # (``.to(gt.device)``) cannot be told from a device-to-host one
        if getattr(func, '__name__', '') in D2H_FUNCTIONS:
            self.counter.syncs[self.counter.phase]['d2h'] += 1
        return func(*args, **(kwargs or {}))


class OpCounter(TorchDispatchMode):
    """Counts ops and syncs per phase; set ``phase`` (or use ``in_phase``)."""

    def __init__(self):
        super().__init__()
        self.phase = 'other'
        self.ops = Counter()
        self.names = defaultdict(Counter)  # per phase: aten op -> count
        self.syncs = defaultdict(Counter)
        self._function_mode = _D2H(self)

    @contextlib.contextmanager
    def in_phase(self, name):
        old, self.phase = self.phase, name
        try:
            yield
        finally:
            self.phase = old

    def __enter__(self):
        self._function_mode.__enter__()
        return super().__enter__()

    def __exit__(self, *args):
        super().__exit__(*args)
        self._function_mode.__exit__(*args)

    def __torch_dispatch__(self, func, types, args=(), kwargs=None):
        self.ops[self.phase] += 1
        self.names[self.phase][str(func.overloadpacket.__name__)] += 1
        kind = SYNC_OPS.get(func)
        if kind is None and _is_bool_index(func, args):
            kind = 'bool_index'
        if kind is not None:
            self.syncs[self.phase][kind] += 1
        return func(*args, **(kwargs or {}))

    def summary(self) -> dict:
        return dict(ops=dict(self.ops),
                    syncs={p: dict(c) for p, c in self.syncs.items()})
