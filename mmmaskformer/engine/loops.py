"""mmengine's iteration loop, validation and test loops, with our guarantees.

Registered in the ``mmmaskformer`` scope under mmengine's names, so every
config (``train_cfg = dict(type='IterBasedTrainLoop', ...)``, ``ValLoop``,
``TestLoop``) gets them.

**Exact resume** (:class:`IterBasedTrainLoop`): instead of replaying every
trained batch through the pipeline (mmengine), the sampler starts at the
saved global position, and every rank's RNG states are restored right
before the first resumed iteration. Validation inside training runs on a
copy of the RNG streams, so it never shifts the training randomness. With
per-sample seeding (:mod:`.guarded_dataset`) a run killed at any iteration
and resumed ends with the same weights, bit for bit on the CPU.

**Bad samples** (``bad_sample`` in ``train_cfg``): ``'skip'`` (default for
training) logs each bad sample with its file and reason, draws another one
and stops with :class:`~.errors.BadSampleError` once more than
``max_bad_fraction`` of ``max(samples drawn, dataset length)`` were bad;
``'error'`` stops at the first. Validation and test always stop at the
first bad sample: a score is over every listed image or there is none.
"""
import copy
import logging
from typing import Optional

from mmengine.dist import get_world_size
from mmengine.logging import print_log
from mmengine.runner import IterBasedTrainLoop as MMEngineIterBasedTrainLoop
from mmengine.runner import TestLoop as MMEngineTestLoop
from mmengine.runner import ValLoop as MMEngineValLoop
from mmengine.runner.loops import _InfiniteDataloaderIterator

from mmmaskformer.registry import LOOPS
from .checkpoint_hook import RESUME_STATE
from mmmaskformer.errors import BadSampleError
from .guarded_dataset import POLICIES, SKIPPED_KEY
from .rng import preserved_rng, restore_rng_state
from .sampler import PositionalInfiniteSampler


def guard_dataloader_cfg(dataloader, bad_sample: str, seed: Optional[int]):
    """Wrap the dataset config in ``SampleGuard``."""
    if not isinstance(dataloader, dict):
        return dataloader
    if bad_sample not in POLICIES:
        raise ValueError(f'bad_sample={bad_sample!r}: expected one of '
                         f'{POLICIES}')
    dataloader = copy.deepcopy(dataloader)
    dataset = dataloader['dataset']
    if not (isinstance(dataset, dict) and
            str(dataset.get('type', '')).endswith('SampleGuard')):
        dataloader['dataset'] = dict(type='mmmaskformer.SampleGuard',
                                     dataset=dataset, bad_sample=bad_sample,
                                     seed=seed)
    return dataloader


def _next_batch(iterator):
    try:
        return next(iterator)
    except BadSampleError as e:  # re-raised by a worker: drop its traceback
        raise BadSampleError(BadSampleError.clean_message(str(e))) from None


@LOOPS.register_module()
class ResumableIterBasedTrainLoop(MMEngineIterBasedTrainLoop):
    """See the module docstring. Extra arguments:

    Args:
        bad_sample: ``'skip'`` (default) or ``'error'``.
        max_bad_fraction: with ``'skip'``, stop once more than this fraction
            of ``max(samples drawn, len(dataset))`` were bad (0.01).
    """

    def __init__(self, runner, dataloader, max_iters: int,
                 val_begin: int = 1, val_interval: int = 1000,
                 dynamic_intervals=None, bad_sample: str = 'skip',
                 max_bad_fraction: float = 0.01) -> None:
        dataloader = guard_dataloader_cfg(dataloader, bad_sample,
                                          runner.seed)
        super().__init__(runner, dataloader, max_iters, val_begin,
                         val_interval, dynamic_intervals)
        self.bad_sample = bad_sample
        self.max_bad_fraction = max_bad_fraction
        self.samples_seen = 0  # global draws, all ranks together
        self.bad_samples = 0  # on this rank
        self._draws = 0  # on this rank

    # ------------------------------------------------------------ helpers
    @property
    def sampler(self):
        sampler = getattr(self.dataloader, 'sampler', None)
        if not isinstance(sampler, PositionalInfiniteSampler):
            sampler = getattr(getattr(self.dataloader, 'batch_sampler', None),
                              'sampler', None)
        return sampler if isinstance(sampler, PositionalInfiniteSampler) else None

    @property
    def global_batch_size(self) -> int:
        batch = self.dataloader.batch_size or getattr(
            self.dataloader.batch_sampler, 'batch_size', 1)
        return batch * get_world_size()

    def _fast_forward(self) -> None:
        state = self.runner.message_hub.get_info(RESUME_STATE)
        sampler = self.sampler
        if sampler is None or state is None:
            # not our sampler, or an old checkpoint: mmengine's replay
            print_log(f'Advance dataloader {self._iter} steps to skip data '
                      'that has already been trained (not exact: the '
                      'checkpoint or sampler lacks the resume state)',
                      logger='current', level=logging.WARNING)
            for _ in range(self._iter):
                next(self.dataloader_iterator)
            self.samples_seen = self._iter * self.global_batch_size
            return
        self.samples_seen = int(state['samples_seen'])
        self.bad_samples = int(state.get('bad_samples', 0))
        sampler.set_start(self.samples_seen)
        self.dataloader_iterator = _InfiniteDataloaderIterator(
            self.dataloader)
        states = state['rng_states']
        rank = self.runner.rank
        if len(states) != get_world_size():
            print_log(f'the checkpoint holds RNG states of {len(states)} '
                      f'processes, this run has {get_world_size()}: rank '
                      f'{rank} takes those of rank {rank % len(states)}; '
                      'the data order is kept, dropout streams differ',
                      logger='current', level=logging.WARNING)
        restore_rng_state(states[rank % len(states)])
        self.runner.message_hub.pop_info(RESUME_STATE)
        print_log(f'resumed exactly at iteration {self._iter}: sampler at '
                  f'global sample {self.samples_seen}, RNG states restored',
                  logger='current')

    def _count_skipped(self, data_batch) -> None:
        skipped = data_batch.pop(SKIPPED_KEY, None) \
            if isinstance(data_batch, dict) else None
        batch = self.global_batch_size // get_world_size()
        self._draws += batch
        self.samples_seen += self.global_batch_size
        if not skipped:
            return
        reasons = [line for s in skipped for line in s.splitlines() if line]
        if not reasons:
            return
        self.bad_samples += len(reasons)
        self._draws += len(reasons)
        size = len(self.dataloader.dataset)
        limit = self.max_bad_fraction * max(self._draws, size)
        print_log(f'iteration {self._iter + 1}: skipped {len(reasons)} bad '
                  f'sample(s), {self.bad_samples} so far on rank '
                  f'{self.runner.rank} (limit {limit:.1f}):\n' +
                  '\n'.join(reasons), logger='current',
                  level=logging.WARNING)
        if self.bad_samples > limit:
            raise BadSampleError(
                f'{self.bad_samples} of {self._draws} samples drawn on rank '
                f'{self.runner.rank} were bad, more than max_bad_fraction='
                f'{self.max_bad_fraction} of max(drawn, dataset length '
                f'{size}). The last:\n' + '\n'.join(reasons))

    # --------------------------------------------------------------- loop
    def run(self):
        self.runner.call_hook('before_train')
        self.runner.call_hook('before_train_epoch')
        if self._iter > 0:
            self._fast_forward()
        while self._iter < self._max_iters and not self.stop_training:
            self.runner.model.train()
            data_batch = _next_batch(self.dataloader_iterator)
            self._count_skipped(data_batch)
            self.run_iter(data_batch)
            self._decide_current_val_interval()
            if (self.runner.val_loop is not None
                    and self._iter >= self.val_begin
                    and (self._iter % self.val_interval == 0
                         or self._iter == self._max_iters)):
                with preserved_rng(with_cuda=True):
                    self.runner.val_loop.run()
        self.runner.call_hook('after_train_epoch')
        self.runner.call_hook('after_train')
        return self.runner.model


class _GuardedEvalMixin:
    """Validation/test: every listed sample is scored or the run stops."""

    def __init__(self, runner, dataloader, evaluator, fp16: bool = False):
        super().__init__(runner,
                         guard_dataloader_cfg(dataloader, 'error', None),
                         evaluator, fp16)

    def run(self) -> dict:
        try:
            return super().run()
        except BadSampleError as e:
            raise BadSampleError(BadSampleError.clean_message(str(e))) \
                from None


@LOOPS.register_module()
class CheckedValLoop(_GuardedEvalMixin, MMEngineValLoop):
    """mmengine's ``ValLoop`` that stops at the first bad sample."""


@LOOPS.register_module()
class CheckedTestLoop(_GuardedEvalMixin, MMEngineTestLoop):
    """mmengine's ``TestLoop`` that stops at the first bad sample."""
