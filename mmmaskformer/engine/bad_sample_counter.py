"""Counting skipped samples over every rank, and stopping all ranks together.

With ``bad_sample='skip'`` a rank that meets a bad sample draws another one
(:class:`~.guarded_dataset.SampleGuard`) and reports the skip with its
batch. The training loop hands each iteration's skips to
:meth:`BadSampleCounter.count`, on every rank. Under DDP one all-reduce of
``2 x world_size`` integers per iteration tells every rank what every rank
skipped (and whether one met a bad sample it could not replace); only then
are the reasons gathered. So:

* every skip reaches rank 0's log, with its file, reason and rank (the
  loggers of the other ranks write no file);
* every rank holds every rank's counts, which go into the resume state and
  come back on resume;
* the limit is decided on the counts of all ranks, so all ranks stop at the
  same iteration with the same one-line :class:`~.errors.BadSampleError`
  instead of one rank stopping and the others failing in the next
  collective.
"""
import logging
from typing import List, Optional, Sequence

import torch
from mmengine.dist import all_gather_object, all_reduce, get_rank
from mmengine.logging import print_log

from mmmaskformer.errors import BadSampleError


def stop_on_every_rank(error: Exception) -> Exception:
    """Mark an error that every rank raises alike (the tools print it once,
    from rank 0)."""
    error.same_on_every_rank = True
    return error


class BadSampleCounter:
    """Draws and skips per rank, and the ``max_bad_fraction`` limit.

    Args:
        max_bad_fraction: stop once more than this fraction of
            ``max(samples drawn, dataset length)``, over all ranks, was bad.
        dataset_length: the length of the training dataset.
        world_size: the number of processes.
    """

    def __init__(self, max_bad_fraction: float, dataset_length: int,
                 world_size: int = 1) -> None:
        self.max_bad_fraction = float(max_bad_fraction)
        self.dataset_length = int(dataset_length)
        self.world_size = int(world_size)
        self.draws = [0] * self.world_size
        self.bad = [0] * self.world_size

    # ------------------------------------------------------------ state
    @property
    def total_draws(self) -> int:
        return sum(self.draws)

    @property
    def total_bad(self) -> int:
        return sum(self.bad)

    @property
    def limit(self) -> float:
        return self.max_bad_fraction * max(self.total_draws,
                                           self.dataset_length)

    def state_dict(self) -> dict:
        return dict(draws=list(self.draws), bad_samples=list(self.bad))

    def load_state_dict(self, state: dict) -> None:
        """Every rank's counts; saved by another number of processes, the
        totals are kept (on rank 0's entry), which is what the limit uses."""
        draws = [int(v) for v in state.get('draws', [])]
        bad = state.get('bad_samples', [])
        bad = [int(v) for v in (bad if isinstance(bad, (list, tuple))
                                else [bad])]
        if not draws:  # an older resume state: rank 0's bad count only
            draws = [0] * len(bad)
        if len(draws) == len(bad) == self.world_size:
            self.draws, self.bad = draws, bad
            return
        self.draws = [sum(draws)] + [0] * (self.world_size - 1)
        self.bad = [sum(bad)] + [0] * (self.world_size - 1)

    # ------------------------------------------------------------ count
    def _exchange(self, skipped: List[str], error: Optional[str]):
        """(skipped reasons by rank, error messages by rank)."""
        if self.world_size == 1:
            return [skipped], [error]
        rank = get_rank()
        flags = torch.zeros(2, self.world_size, dtype=torch.int64)
        flags[0, rank] = len(skipped)
        flags[1, rank] = int(error is not None)
        all_reduce(flags, op='sum')
        if not bool(flags.any()):
            return [[]] * self.world_size, [None] * self.world_size
        gathered = all_gather_object((skipped, error))
        return [g[0] for g in gathered], [g[1] for g in gathered]

    def count(self, iteration: int, batch_per_rank: int,
              skipped: Sequence[str], error: Optional[str] = None) -> None:
        """Count one iteration of every rank (all ranks call it).

        Args:
            iteration: the iteration, from 1, for messages.
            batch_per_rank: samples in this rank's batch.
            skipped: the reasons of the samples this rank skipped.
            error: a bad sample this rank could not replace (its message).
        """
        skipped_by_rank, errors = self._exchange(list(skipped), error)
        for rank, reasons in enumerate(skipped_by_rank):
            self.draws[rank] += batch_per_rank + len(reasons)
            self.bad[rank] += len(reasons)
        for rank, message in enumerate(errors):
            if message is not None:
                where = f' (rank {rank})' if self.world_size > 1 else ''
                raise stop_on_every_rank(BadSampleError(message + where))
        if not any(skipped_by_rank):
            return
        lines = []
        for rank, reasons in enumerate(skipped_by_rank):
            where = f'rank {rank}: ' if self.world_size > 1 else ''
            lines += [where + reason for reason in reasons]
        if get_rank() == 0:
            print_log(f'iteration {iteration}: skipped {len(lines)} bad '
                      f'sample(s), {self.total_bad} of {self.total_draws} '
                      f'drawn so far (limit {self.limit:.1f}):\n' +
                      '\n'.join(lines), logger='current',
                      level=logging.WARNING)
        if self.total_bad > self.limit:
            raise stop_on_every_rank(BadSampleError(
                f'{self.total_bad} of {self.total_draws} samples drawn were '
                f'bad, more than max_bad_fraction={self.max_bad_fraction} of '
                f'max(drawn, dataset length {self.dataset_length}). The '
                'last:\n' + '\n'.join(lines)))
