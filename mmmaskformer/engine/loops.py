"""mmengine's iteration loop, validation and test loops, with our guarantees.

Configs name them ``mmmaskformer.ResumableIterBasedTrainLoop``,
``mmmaskformer.CheckedValLoop`` and ``mmmaskformer.CheckedTestLoop``.

**Exact resume** (:class:`ResumableIterBasedTrainLoop`): the loop's state
(the effective seed, the global sample position, every rank's skip counts
and RNG states, and the run's batch size, dataset length and learning
rates) goes through :meth:`~ResumableIterBasedTrainLoop.state_dict` /
:meth:`~ResumableIterBasedTrainLoop.load_state_dict` at mmengine's
checkpoint hook points (:mod:`.loop_state_hook`). mmengine's own ``run``
drives the loop. On resume, instead of loading every trained batch again
(mmengine's replay), the sampler is re-seeded with the saved seed (so an
unset ``randomness.seed`` resumes exactly too) and starts at the saved
position, and every rank's RNG states are restored right before the first
resumed batch (:mod:`.train_batches`). Validation inside training does not
shift the training randomness. With per-sample seeding
(:mod:`.guarded_dataset`) a run killed at any iteration and resumed ends
with the same weights, bit for bit on the CPU. A resume with another batch
size, dataset length or learning rate is refused, unless
``resume_changed=True`` (``tools/train.py --resume-changed``).

**Bad samples** (``bad_sample`` in ``train_cfg``): ``'skip'`` (default for
training) logs each bad sample with its file, reason and rank, draws another
one and stops with :class:`~.errors.BadSampleError` once more than
``max_bad_fraction`` of ``max(samples drawn, dataset length)`` over all
ranks were bad; ``'error'`` stops at the first. Under DDP every rank stops
at the same iteration (:mod:`.bad_sample_counter`). Validation and test
always stop at the first bad sample: a score is over every listed image or
there is none.
"""
import copy
import logging
from typing import Optional

from mmengine.dist import all_gather_object, get_rank, get_world_size
from mmengine.logging import print_log
from mmengine.runner import IterBasedTrainLoop, TestLoop, ValLoop

from mmmaskformer.errors import BadSampleError, ResumeMismatchError
from mmmaskformer.registry import DATASETS, LOOPS

from .bad_sample_counter import BadSampleCounter, stop_on_every_rank
from .batch_sizes import check_batch_sizes
from .guarded_dataset import POLICIES, SKIPPED_KEY, SampleGuard
from .loop_state_hook import TrainLoopStateHook
from .rng import capture_rng_state
from .run_signature import changes_since, per_rank_batch_size, run_signature
from .sampler import PositionalInfiniteSampler
from .train_batches import TrainBatches, loader_sampler


def _is_guard(dataset) -> bool:
    kind = dataset.get('type') if isinstance(dataset, dict) else None
    if isinstance(kind, str):
        kind = DATASETS.get(kind)
    return kind is SampleGuard


def guard_dataloader_cfg(dataloader, bad_sample: str, seed: Optional[int]):
    """Wrap the dataset config of ``dataloader`` in ``SampleGuard``."""
    if not isinstance(dataloader, dict):
        return dataloader
    if bad_sample not in POLICIES:
        raise ValueError(f'bad_sample={bad_sample!r}: expected one of '
                         f'{POLICIES}')
    dataloader = copy.deepcopy(dataloader)
    if not _is_guard(dataloader['dataset']):
        dataloader['dataset'] = dict(type=SampleGuard,
                                     dataset=dataloader['dataset'],
                                     bad_sample=bad_sample, seed=seed)
    return dataloader


@LOOPS.register_module()
class ResumableIterBasedTrainLoop(IterBasedTrainLoop):
    """See the module docstring. Extra arguments:

    Args:
        bad_sample: ``'skip'`` (default) or ``'error'``.
        max_bad_fraction: with ``'skip'``, stop once more than this fraction
            of ``max(samples drawn, len(dataset))`` were bad (0.01).
        resume_changed: resume even when the batch size, the dataset length
            or the learning rate differ from the checkpoint's (with a
            warning that names the change); refused otherwise.
    """

    def __init__(self, runner, dataloader, max_iters: int,
                 val_begin: int = 1, val_interval: int = 1000,
                 dynamic_intervals=None, bad_sample: str = 'skip',
                 max_bad_fraction: float = 0.01,
                 resume_changed: bool = False) -> None:
        dataloader = guard_dataloader_cfg(dataloader, bad_sample,
                                          runner.seed)
        super().__init__(runner, dataloader, max_iters, val_begin,
                         val_interval, dynamic_intervals)
        self.bad_sample = bad_sample
        self.resume_changed = bool(resume_changed)
        self.samples_seen = 0  # global draws, all ranks together
        self.counter = BadSampleCounter(max_bad_fraction,
                                        len(self.dataloader.dataset),
                                        get_world_size())
        # mmengine's loop iterated the data loader already (its own
        # iterator, which a persistent loader keeps): restart the sampler's
        # stream so that the indices its workers prefetched are not lost
        # (another infinite sampler cannot be restarted: with workers, the
        # batches prefetched then are not trained)
        if self.sampler is not None:
            self.sampler.set_start(0)
        self.dataloader_iterator = TrainBatches(self.dataloader)
        self._loaded_state = None
        self._signature_at_load = None
        runner.register_hook(TrainLoopStateHook(self))

    # ------------------------------------------------------------ helpers
    @property
    def sampler(self) -> Optional[PositionalInfiniteSampler]:
        sampler = loader_sampler(self.dataloader)
        return sampler if isinstance(sampler, PositionalInfiniteSampler) \
            else None

    @property
    def seed(self) -> int:
        """The seed of the sample order and the per-sample seeds."""
        sampler = self.sampler
        return int(sampler.seed if sampler is not None else self.runner.seed)

    @property
    def bad_samples(self) -> int:
        """Samples skipped so far, all ranks together."""
        return self.counter.total_bad

    def _signature(self):
        return run_signature(self.dataloader, self.runner.optim_wrapper)

    # -------------------------------------------------------------- state
    def state_dict(self) -> dict:
        """Everything needed to continue exactly. Under DDP every rank must
        call it (it gathers every rank's RNG states)."""
        rng = self.dataloader_iterator.rng_before_next or capture_rng_state()
        rng_states = all_gather_object(rng) if get_world_size() > 1 \
            else [rng]
        return dict(seed=self.seed, samples_seen=int(self.samples_seen),
                    rng_states=rng_states, run=self._signature(),
                    **self.counter.state_dict())

    def load_state_dict(self, state: dict) -> None:
        """Keep ``state`` for :meth:`continue_from_loaded_state`: it applies
        only if training continues at the checkpoint's iteration (a resume),
        not when the checkpoint only initialises the weights."""
        self._loaded_state = state
        # the optimizer and schedulers are built, not yet restored: these
        # are the learning rates of this run's config
        self._signature_at_load = self._signature()

    def continue_from_loaded_state(self) -> None:
        """Called before training starts (``before_train``)."""
        state, self._loaded_state = self._loaded_state, None
        if self.iter == 0:
            return  # nothing to continue: a fresh run or load_from
        sampler = self.sampler
        if sampler is None or state is None:
            # not our sampler, or an old checkpoint: mmengine's replay
            print_log(f'Advance dataloader {self.iter} steps to skip data '
                      'that has already been trained (not exact: the '
                      'checkpoint or sampler lacks the resume state)',
                      logger='current', level=logging.WARNING)
            self.samples_seen = self.iter * per_rank_batch_size(
                self.dataloader) * get_world_size()
            return
        not_exact = self._check_changes(state)
        self.samples_seen = int(state['samples_seen'])
        self.counter.load_state_dict(state)
        seed = int(state.get('seed', sampler.seed))
        sampler.seed = seed
        sampler.set_start(self.samples_seen)
        if isinstance(self.dataloader.dataset, SampleGuard):
            self.dataloader.dataset.seed = seed
        states = state['rng_states']
        rank = get_rank()
        if len(states) != get_world_size():
            not_exact.append(
                f'the checkpoint holds the RNG states of {len(states)} '
                f'processes, this run has {get_world_size()}: rank {rank} '
                f'takes those of rank {rank % len(states)} (the data order '
                'is kept, dropout streams differ)')
        self.dataloader_iterator.resume(replayed=self.iter)
        self.dataloader_iterator.restore_rng_before_next(
            states[rank % len(states)])
        where = (f'iteration {self.iter}: sampler at global sample '
                 f'{self.samples_seen} (seed {seed}), RNG states restored')
        if not_exact:
            print_log(f'resumed at {where}; not exact: ' +
                      '; '.join(not_exact), logger='current',
                      level=logging.WARNING)
        else:
            print_log(f'resumed exactly at {where}', logger='current')

    def _check_changes(self, state: dict) -> list:
        """What differs from the checkpoint's run: refused unless
        ``resume_changed``."""
        saved = state.get('run')
        if saved is None or self._signature_at_load is None:
            return []
        changes = changes_since(saved, self._signature_at_load)
        if changes and not self.resume_changed:
            raise stop_on_every_rank(ResumeMismatchError(
                'the run differs from the checkpoint it resumes: ' +
                '; '.join(changes) + '. Resume with --resume-changed '
                '(train_cfg.resume_changed=True) to continue anyway'))
        return changes

    def keep_rng_across_validation(self) -> None:
        """Called when a validation starts (``before_val``)."""
        if self.dataloader_iterator.rng_before_next is None:
            self.dataloader_iterator.restore_rng_before_next(
                capture_rng_state())

    # --------------------------------------------------------------- loop
    def run_iter(self, data_batch) -> None:
        """Count this iteration's skips and bad samples on every rank (all
        ranks stop together), then mmengine's ``run_iter``."""
        error = self.dataloader_iterator.pending_error
        self.dataloader_iterator.pending_error = None
        if error is None and data_batch is not None:
            try:  # an image the preprocessor cannot stack, named
                check_batch_sizes(data_batch, self.runner.model)
            except BadSampleError as e:
                error = str(e)
        skipped = data_batch.pop(SKIPPED_KEY, None) \
            if isinstance(data_batch, dict) else None
        reasons = [line for s in skipped or [] for line in s.splitlines()
                   if line]
        self.counter.count(self.iter + 1,
                           per_rank_batch_size(self.dataloader), reasons,
                           error)
        if data_batch is None:
            raise RuntimeError(
                f'iteration {self.iter + 1}: no batch. mmengine\'s '
                'IterBasedTrainLoop.run no longer replays the trained '
                'iterations on resume as this loop expects')
        self.samples_seen += per_rank_batch_size(self.dataloader) * \
            get_world_size()
        super().run_iter(data_batch)


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
class CheckedValLoop(_GuardedEvalMixin, ValLoop):
    """mmengine's ``ValLoop`` that stops at the first bad sample."""


@LOOPS.register_module()
class CheckedTestLoop(_GuardedEvalMixin, TestLoop):
    """mmengine's ``TestLoop`` that stops at the first bad sample."""
