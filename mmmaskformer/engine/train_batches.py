"""The training loop's stream of batches, which can resume at a position.

mmengine's ``IterBasedTrainLoop.run`` takes every batch with
``next(loop.dataloader_iterator)``, and after a resume first calls it once
per trained iteration to replay the data. :class:`TrainBatches` is what our
loop puts in that public attribute:

* after an exact resume (:meth:`resume`) the sampler already starts at the
  saved position, so the replayed calls return ``None`` without loading
  anything, and the run's RNG states are restored right before the first
  batch that is trained;
* a bad sample under DDP does not raise out of ``next`` on one rank alone
  (the other ranks would wait in the gradient all-reduce): the error is
  held in :attr:`pending_error` for the loop's ``run_iter``, where every
  rank learns of it and all stop together;
* a finite sampler (not an infinite one) is simply iterated again, with
  ``set_epoch``, when it runs out.
"""
from typing import Optional

from mmengine.logging import print_log

from mmmaskformer.errors import BadSampleError

from .rng import preserved_rng, restore_rng_state


def loader_sampler(dataloader):
    """The sampler of ``dataloader`` (also behind a batch sampler)."""
    sampler = getattr(dataloader, 'sampler', None)
    batch_sampler = getattr(dataloader, 'batch_sampler', None)
    if not hasattr(sampler, 'set_epoch') and batch_sampler is not None:
        sampler = getattr(batch_sampler, 'sampler', sampler)
    return sampler


class TrainBatches:
    """``next()`` gives the next training batch of ``dataloader``.

    The data loader is iterated lazily, on the first batch, so that a
    resume can move the sampler first.
    """

    def __init__(self, dataloader) -> None:
        self.dataloader = dataloader
        self.epoch = 0
        self.pending_error: Optional[str] = None
        self._iterator = None
        self._replayed_left = 0
        self._rng_before_next = None

    def __iter__(self):
        return self

    def resume(self, replayed: int) -> None:
        """Answer the next ``replayed`` calls (mmengine's replay of the
        trained iterations) with ``None``: the sampler starts after them."""
        self._replayed_left = int(replayed)
        self._iterator = None

    @property
    def replay_pending(self) -> bool:
        return self._replayed_left > 0

    def restore_rng_before_next(self, state: dict) -> None:
        """Restore the RNG ``state`` right before the next batch is loaded
        (after a resume, and after a validation inside training)."""
        self._rng_before_next = state

    @property
    def rng_before_next(self) -> Optional[dict]:
        """The RNG state the next batch will start from, if already fixed."""
        return self._rng_before_next

    def __next__(self):
        if self._replayed_left > 0:
            self._replayed_left -= 1
            return None
        if self._iterator is None:
            # iter() draws a base seed from torch's RNG. mmengine's loop
            # drew it already when it was built, for the iterator this one
            # replaces: keep the training streams as they were
            with preserved_rng():
                self._iterator = iter(self.dataloader)
        if self._rng_before_next is not None:
            restore_rng_state(self._rng_before_next)
            self._rng_before_next = None
        try:
            try:
                return next(self._iterator)
            except StopIteration:
                return self._next_epoch()
        except BadSampleError as e:  # a worker's re-raise: drop its traceback
            self.pending_error = BadSampleError.clean_message(str(e))
            return None

    def _next_epoch(self):
        self.epoch += 1
        print_log('the training sampler ran out: iterating it again (epoch '
                  f'{self.epoch})', logger='current')
        sampler = loader_sampler(self.dataloader)
        if hasattr(sampler, 'set_epoch'):
            sampler.set_epoch(self.epoch)
        self._iterator = iter(self.dataloader)
        return next(self._iterator)
