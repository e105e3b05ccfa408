"""Device-independent measures of one training step, per phase.

* dispatched aten ops (each at least one kernel launch on a GPU) and
  host-device syncs by kind (``step_measures.OpCounter``);
* peak memory by kind: parameters, buffers, gradients, optimizer state,
  activations, temporaries (``step_measures.MemoryTracker``, torch's
  ``MemTracker``).

Both run the same :func:`~.phases.train_step` as the timed iterations, so
the phases are the same (:mod:`.phases`).
"""
from typing import Dict

import torch
from step_measures import MemoryTracker, OpCounter

from .phases import HEAD_PHASES, PhaseClock, train_step


def count_ops(model, optimizer, data, device: str = 'cpu') -> OpCounter:
    """Ops and syncs of one step, by phase."""
    counter = OpCounter()
    clock = PhaseClock(device, counter)
    with counter:
        train_step(model, optimizer, data, clock)
    return counter


def peak_memory(model, optimizer, data, device: str = 'cpu'
                ) -> Dict[str, int]:
    """Bytes at the step's peak, by kind (and ``'Total'``)."""
    tracker = MemoryTracker()
    tracker.track_external(model, optimizer)
    with tracker:
        train_step(model, optimizer, data, PhaseClock(device))
    return tracker.peak_by_kind()


def _add(into: Dict[str, int], counts: Dict[str, int]) -> None:
    for kind, n in counts.items():
        into[kind] = into.get(kind, 0) + n


def summarise_counts(counter: OpCounter) -> dict:
    """Ops and syncs of head + matching + losses (forward and backward) and
    of the whole step (without ``logging``), the optimizer's syncs apart."""
    summary = counter.summary()
    ops, syncs = summary['ops'], summary['syncs']
    head_syncs, outside_optimizer = {}, {}
    for phase in HEAD_PHASES:
        _add(head_syncs, syncs.get(phase, {}))
    for phase, kinds in syncs.items():
        if phase not in ('optimizer', 'logging'):
            _add(outside_optimizer, kinds)
    step = {p: n for p, n in ops.items() if p != 'logging'}
    return dict(
        ops_by_phase=ops,
        syncs_by_phase=syncs,
        ops_head_matching_losses=sum(ops.get(p, 0) for p in HEAD_PHASES),
        ops_step=sum(step.values()),
        ops_step_without_optimizer=sum(
            n for p, n in step.items() if p != 'optimizer'),
        syncs_head_matching_losses=head_syncs,
        syncs_step_outside_optimizer=outside_optimizer,
        syncs_optimizer=syncs.get('optimizer', {}),
        # the most frequent aten ops of each head phase (where launches go)
        top_ops_by_phase={p: dict(counter.names[p].most_common(25))
                          for p in HEAD_PHASES if p in counter.names})


def measure_step(model, optimizer, data, device: str = 'cpu') -> dict:
    """Op counts, syncs and peak memory (MiB by kind) of one step each; on
    CUDA also ``torch.cuda.max_memory_allocated`` of the tracked step."""
    out = summarise_counts(count_ops(model, optimizer, data, device))
    cuda = str(device).startswith('cuda')
    if cuda:
        torch.cuda.reset_peak_memory_stats()
    peak = peak_memory(model, optimizer, data, device)
    out['peak_memory_mib_by_kind'] = {k: v / 2**20 for k, v in peak.items()}
    if cuda:
        out['cuda_max_memory_allocated_mib'] = \
            torch.cuda.max_memory_allocated() / 2**20
    return out
