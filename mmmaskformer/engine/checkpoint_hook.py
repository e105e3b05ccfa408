"""mmengine's ``CheckpointHook`` with atomic writes and the run's RNG states.

Only public seams of mmengine are used: the hook's ``backend_args``, its
public hook methods, and the ``before_save_checkpoint`` /
``after_load_checkpoint`` points that ``Runner`` calls.

* **Atomic.** With a local ``out_dir`` and no ``backend_args`` of your own,
  the hook's ``backend_args`` select :mod:`.atomic_file_backend`: every
  checkpoint, the regular ones and the ``save_best`` ones, is written to
  ``<name>.tmp`` and renamed into place, and the checkpoints that
  ``max_keep_ckpts`` or a new best make obsolete are deleted only after the
  new file is in place and ``last_checkpoint`` names it. A kill during a save
  leaves the previous checkpoint complete and ``last_checkpoint`` pointing at
  an existing, complete file. Not covered: mmengine writes
  ``last_checkpoint`` itself with a plain ``open()``, so a kill inside that
  one short write can leave it empty (never naming a missing file);
  ``tools/train.py --resume`` checks what it names and scans the checkpoint
  folder. Remote ``out_dir`` / your own ``backend_args`` keep mmengine's
  behaviour.
* **Exact resume.** The training loop's ``state_dict()`` (every rank's RNG
  states, the seed, the samples drawn and skipped: see
  :class:`~.loops.ResumableIterBasedTrainLoop`) goes into
  ``meta['resume_state']``; the loop's own hook (:mod:`.loop_state_hook`)
  hands it back to ``load_state_dict()`` on ``--resume``. It is gathered
  from all ranks in ``after_train_iter`` / ``after_train_epoch`` /
  ``after_val_epoch`` when a save is due there (``Runner.save_checkpoint``
  and its ``before_save_checkpoint`` run on rank 0 only).
* **One line.** A :class:`~mmmaskformer.errors.RunStopped` that nothing
  catches (mmseg's or mmdet's own ``tools/train.py``) ends the process with
  one ``ERROR (...)`` line instead of a traceback (:mod:`.one_line_stop`).

Configs name it ``mmmaskformer.AtomicCheckpointHook``.
"""
import contextlib
import logging

from mmengine.dist import get_world_size
from mmengine.hooks import CheckpointHook
from mmengine.logging import print_log

from mmmaskformer.registry import HOOKS

from .atomic_file_backend import ATOMIC_LOCAL_BACKEND, AtomicLocalBackend, is_remote
from .one_line_stop import one_line_stops, restore_excepthook

RESUME_STATE = 'resume_state'


def resume_state_of(runner):
    """The training loop's ``state_dict()`` (all ranks call: under DDP it
    gathers every rank's RNG states); ``None`` for a loop without one."""
    state_dict = getattr(runner.train_loop, 'state_dict', None)
    return state_dict() if callable(state_dict) else None


@HOOKS.register_module()
class AtomicCheckpointHook(CheckpointHook):
    """See the module docstring; arguments are mmengine's ``CheckpointHook``'s.

    ``backend_args`` left unset (and no ``file_client_args``) with a local
    ``out_dir`` becomes ``dict(backend='mmmaskformer_atomic_local')``.
    """

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        if (self.backend_args is None and self.file_client_args is None
                and not is_remote(self.out_dir)):
            self.backend_args = dict(backend=ATOMIC_LOCAL_BACKEND)
        self._gathered_state = None
        self._training = False

    # ------------------------------------------------------------ helpers
    @property
    def atomic(self) -> bool:
        """Whether this hook's saves go through the atomic backend."""
        return isinstance(getattr(self, 'file_backend', None),
                          AtomicLocalBackend)

    def _flush_removals(self) -> None:
        if not self.atomic:
            return
        keep = [self.last_ckpt, getattr(self, 'best_ckpt_path', None)]
        keep += list((getattr(self, 'best_ckpt_path_dict', None) or {})
                     .values())
        self.file_backend.flush_removals(keep=keep)

    @contextlib.contextmanager
    def _saves_may_follow(self, runner, due: bool):
        """Gather every rank's resume state for the saves of this hook
        point (a collective: every rank computes ``due`` alike)."""
        self._gathered_state = resume_state_of(runner) if due else None
        try:
            yield
        finally:
            self._gathered_state = None
        self._flush_removals()

    # ------------------------------------------------------- hook points
    def before_run(self, runner) -> None:
        one_line_stops()

    def after_run(self, runner) -> None:
        restore_excepthook()

    def before_train(self, runner) -> None:
        super().before_train(runner)
        self._training = True
        if self.file_client_args is None and not self.atomic and \
                not is_remote(self.out_dir):
            print_log(f'checkpoints are written by the backend of '
                      f'backend_args={self.backend_args}, not atomically',
                      logger='current', level=logging.WARNING)
        self._flush_removals()  # what max_keep_ckpts dropped on resume

    def after_train_iter(self, runner, batch_idx: int, data_batch=None,
                         outputs=None) -> None:
        due = not self.by_epoch and (
            self.every_n_train_iters(runner, self.interval, self.save_begin)
            or (self.save_last and self.is_last_train_iter(runner)))
        with self._saves_may_follow(runner, due):
            super().after_train_iter(runner, batch_idx, data_batch, outputs)

    def after_train_epoch(self, runner) -> None:
        due = self.by_epoch and (
            self.every_n_epochs(runner, self.interval, self.save_begin)
            or (self.save_last and self.is_last_train_epoch(runner)))
        with self._saves_may_follow(runner, due):
            super().after_train_epoch(runner)

    def after_val_epoch(self, runner, metrics) -> None:
        due = self._training and bool(self.save_best)
        with self._saves_may_follow(runner, due):
            super().after_val_epoch(runner, metrics)

    def before_save_checkpoint(self, runner, checkpoint: dict) -> None:
        """Rank 0, right before ``Runner.save_checkpoint`` writes."""
        if not self._training:
            return
        state = self._gathered_state
        if state is None and get_world_size() == 1:
            state = resume_state_of(runner)
        if state is not None:
            checkpoint.setdefault('meta', {})[RESUME_STATE] = state
        elif callable(getattr(runner.train_loop, 'state_dict', None)):
            print_log('this checkpoint is saved outside the checkpoint '
                      'hook\'s schedule: it lacks the resume state, so a '
                      'resume from it replays the data (not exact)',
                      logger='current', level=logging.WARNING)
