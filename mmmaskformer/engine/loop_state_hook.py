"""Connects the training loop's resume state to mmengine's hook points.

mmengine's ``Runner`` calls ``after_load_checkpoint`` with every checkpoint
it loads and ``before_save_checkpoint`` with every checkpoint it writes
(rank 0 only); loops are not hooks, so
:class:`~.loops.ResumableIterBasedTrainLoop` registers this small hook when
it is built:

* ``after_load_checkpoint``: ``loop.load_state_dict(meta['resume_state'])``
  (it takes effect when training starts at the checkpoint's iteration, so
  a checkpoint given as ``load_from`` only provides weights);
* ``before_save_checkpoint``: ``meta['resume_state'] = loop.state_dict()``
  in a single process. Under DDP ``state_dict()`` gathers every rank's RNG
  states, a collective that rank 0 cannot run alone here: our
  ``AtomicCheckpointHook`` calls it on every rank where a save is due and
  puts it in the checkpoint;
* ``before_train``: the loop continues from the loaded state;
* ``before_val``: validation inside training must not shift the training
  randomness, so the loop restores the RNG states it had here before its
  next training batch.
"""
from mmengine.dist import get_world_size
from mmengine.hooks import Hook

RESUME_STATE = 'resume_state'


class TrainLoopStateHook(Hook):
    """See the module docstring (not for configs: the loop installs it)."""

    priority = 'HIGHEST'

    def __init__(self, loop) -> None:
        self.loop = loop

    def after_load_checkpoint(self, runner, checkpoint: dict) -> None:
        state = (checkpoint.get('meta') or {}).get(RESUME_STATE)
        if state is not None:
            self.loop.load_state_dict(state)

    def before_save_checkpoint(self, runner, checkpoint: dict) -> None:
        meta = checkpoint.setdefault('meta', {})
        if RESUME_STATE not in meta and get_world_size() == 1:
            meta[RESUME_STATE] = self.loop.state_dict()

    def before_train(self, runner) -> None:
        self.loop.continue_from_loaded_state()

    def before_val(self, runner) -> None:
        self.loop.keep_rng_across_validation()
