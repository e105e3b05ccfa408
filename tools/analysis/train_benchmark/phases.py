"""The phases of one training step, told apart by module hooks.

A step runs through these phases, in this order (each phase's time and ops
are exclusive: the matching is not part of the losses):

==========================  ==============================================
``data``                    the data preprocessor
``backbone``                the backbone's forward (the same code both sides)
``targets``                 turning label maps into per-segment targets
``pixel_decoder``           the pixel decoder's forward
``decoder_and_predictions`` the rest of the head's forward: transformer
                            decoder, class and mask predictions
``matching``                the assigner (see :mod:`.probes`)
``losses``                  the criterion without its matching, and the sum
                            of the loss terms
``head_backward``           the backward pass until the first gradient
                            reaches a backbone output
``backbone_backward``       the rest of the backward pass
``optimizer``               gradient clipping and the optimizer step
``logging``                 reading the loss values (excluded from the step)
==========================  ==============================================

Ours builds its targets after the head's forward and computes the exact mask
losses' gradients inside the ``losses`` phase (closed form, while the
full-size values are at hand), where mmseg's autograd computes them in
``head_backward``; so compare head phases forward *and* backward
(:data:`HEAD_PHASES`), not the forward alone.
"""
import contextlib
import time
from collections import defaultdict
from typing import Dict, Optional

import torch

from .probes import head_of, probe_of

try:
    import resource
except ImportError:  # not on Windows
    resource = None

# what "head + matching + losses" sums, forward and backward
HEAD_FORWARD_PHASES = ('targets', 'pixel_decoder', 'decoder_and_predictions',
                       'matching', 'losses')
HEAD_PHASES = HEAD_FORWARD_PHASES + ('head_backward', )
STEP_PHASES = ('data', 'backbone') + HEAD_PHASES + ('backbone_backward',
                                                    'optimizer')


def minor_page_faults() -> int:
    """This process's minor page faults so far (0 where unknown)."""
    if resource is None:
        return 0
    return resource.getrusage(resource.RUSAGE_SELF).ru_minflt


class PhaseClock:
    """Which phase runs now, and the time spent in each.

    ``times``: wall-clock seconds; ``cpu_times``: this process's CPU
    seconds (all threads), which other processes on a shared machine
    inflate far less than the wall clock (with one thread, not at all
    beyond cache effects); ``page_faults``: minor page faults (Linux), the
    CPU allocator's cost of fresh memory, which depends on what the process
    freed before (see ``docs/benchmarks.md``). ``switch(name)`` ends the current phase and
    starts ``name``; on CUDA it synchronises first, so that a phase is
    charged for its own kernels. When ``counter`` (an
    :class:`step_measures.OpCounter`) is given, its ``phase`` follows, so
    ops and syncs are booked to the same phases.
    """

    def __init__(self, device: str = 'cpu', counter=None) -> None:
        self.cuda = str(device).startswith('cuda')
        self.counter = counter
        self.phase: Optional[str] = None
        self.times: Dict[str, float] = defaultdict(float)
        self.cpu_times: Dict[str, float] = defaultdict(float)
        self.page_faults: Dict[str, int] = defaultdict(int)
        self._start = self._cpu_start = 0.0
        self._faults = 0

    def switch(self, name: Optional[str]) -> None:
        if self.cuda:
            torch.cuda.synchronize()
        now, cpu, faults = time.perf_counter(), time.process_time(), \
            minor_page_faults()
        if self.phase is not None:
            self.times[self.phase] += now - self._start
            self.cpu_times[self.phase] += cpu - self._cpu_start
            self.page_faults[self.phase] += faults - self._faults
        self.phase, self._start, self._cpu_start, self._faults = \
            name, now, cpu, faults
        if self.counter is not None:
            self.counter.phase = name or 'other'

    @contextlib.contextmanager
    def nested(self, name: str):
        """``name`` inside the current phase, which resumes afterwards."""
        outer = self.phase
        self.switch(name)
        try:
            yield
        finally:
            self.switch(outer)


@contextlib.contextmanager
def phases_of(model, clock: PhaseClock):
    """Hook ``model`` (ours, mmseg's MaskFormer or mmdet's Mask2Former) so
    that its forward and backward switch ``clock`` between the phases;
    removed on exit."""
    head = head_of(model)
    ours = hasattr(head, 'criterion')
    handles = []

    def on(module, pre: Optional[str] = None, post: Optional[str] = None):
        if pre:
            handles.append(module.register_forward_pre_hook(
                lambda *_: clock.switch(pre)))
        if post:
            handles.append(module.register_forward_hook(
                lambda *_: clock.switch(post)))

    def to_backbone_backward(grad):
        if clock.phase == 'head_backward':
            clock.switch('backbone_backward')

    def backbone_done(_module, _args, outputs):
        clock.switch('targets')
        for t in outputs:
            if t.requires_grad:
                t.register_hook(to_backbone_backward)

    handles.append(model.backbone.register_forward_pre_hook(
        lambda *_: clock.switch('backbone')))
    handles.append(model.backbone.register_forward_hook(backbone_done))
    on(head, pre='decoder_and_predictions',
       post='targets' if ours else 'losses')
    on(head.pixel_decoder, pre='pixel_decoder',
       post='decoder_and_predictions')
    if ours:  # our head builds its targets, then calls the criterion
        on(head.criterion, pre='losses')
    probe = probe_of(model)
    probe.clock = clock
    try:
        yield clock
    finally:
        probe.clock = None
        for h in handles:
            h.remove()


def loss_values(losses: dict) -> Dict[str, float]:
    return {k: float(v.detach()) for k, v in losses.items()}


def train_step(model, optimizer, data, clock: PhaseClock,
               max_grad_norm: float = 0.01) -> Dict[str, float]:
    """One training step (AdamW with the configs' clipping), its phases on
    ``clock``; returns the loss terms."""
    with phases_of(model, clock):
        clock.switch('data')
        batch = model.data_preprocessor(data, training=True)
        losses = model(**batch, mode='loss')
        loss = sum(v for k, v in losses.items() if 'loss' in k)
        clock.switch('head_backward')
        optimizer.zero_grad()
        loss.backward()
        clock.switch('optimizer')
        torch.nn.utils.clip_grad_norm_(model.parameters(), max_grad_norm)
        optimizer.step()
        clock.switch('logging')
        values = loss_values(losses)
        clock.switch(None)
    return values


def phase_summary(times: Dict[str, float]) -> Dict[str, float]:
    """Per-phase seconds plus the sums the report compares."""
    out = {p: times.get(p, 0.0) for p in STEP_PHASES}
    out['backward'] = out['head_backward'] + out['backbone_backward']
    out['total'] = sum(out[p] for p in STEP_PHASES)
    out['head_matching_losses_forward'] = sum(out[p]
                                              for p in HEAD_FORWARD_PHASES)
    out['head_matching_losses'] = sum(out[p] for p in HEAD_PHASES)
    return out
