"""mmengine's ``CheckpointHook`` with atomic writes and the run's RNG states.

* **Atomic.** A checkpoint is written to ``<name>.tmp`` and renamed into
  place (``os.replace``), and so is ``last_checkpoint``: a kill during a
  save leaves the previous checkpoint and pointer intact, never a truncated
  ``iter_N.pth`` nor a pointer to one (local work dirs; remote backends keep
  mmengine's behaviour).
* **Exact resume.** Every rank's RNG states (torch, CUDA, numpy, python) and
  the number of samples the training loop has drawn go into
  ``meta['resume_state']``; :class:`~.loops.IterBasedTrainLoop` restores them
  after a ``--resume``.

Registered in the ``mmmaskformer`` scope under mmengine's name, so every
config's ``default_hooks.checkpoint = dict(type='CheckpointHook', ...)``
gets it.
"""
import os
import os.path as osp

from mmengine.dist import all_gather_object, is_main_process
from mmengine.fileio import LocalBackend
from mmengine.hooks import CheckpointHook as MMEngineCheckpointHook

from mmmaskformer.registry import HOOKS
from mmmaskformer.utils.io import atomic_write_text
from .rng import capture_rng_state

RESUME_STATE = 'resume_state'


def resume_state_of(runner) -> dict:
    """What the training loop needs to continue exactly (all ranks call)."""
    loop = runner.train_loop
    return dict(
        rng_states=all_gather_object(capture_rng_state()),
        samples_seen=int(getattr(loop, 'samples_seen', 0)),
        bad_samples=int(getattr(loop, 'bad_samples', 0)))


@HOOKS.register_module()
class AtomicCheckpointHook(MMEngineCheckpointHook):
    """See the module docstring; arguments are mmengine's."""

    def _local(self) -> bool:
        return isinstance(self.file_backend, LocalBackend)

    def _save_checkpoint_with_step(self, runner, step, meta):
        meta = dict(meta, **{RESUME_STATE: resume_state_of(runner)})
        if self.max_keep_ckpts > 0:
            if len(self.keep_ckpt_ids) > 0 and self.keep_ckpt_ids[-1] == step:
                pass
            else:
                if len(self.keep_ckpt_ids) == self.max_keep_ckpts:
                    _step = self.keep_ckpt_ids.popleft()
                    if is_main_process():
                        ckpt_path = self.file_backend.join_path(
                            self.out_dir, self.filename_tmpl.format(_step))
                        if self.file_backend.isfile(ckpt_path):
                            self.file_backend.remove(ckpt_path)
                        elif self.file_backend.isdir(ckpt_path):
                            self.file_backend.rmtree(ckpt_path)
                self.keep_ckpt_ids.append(step)
                runner.message_hub.update_info('keep_ckpt_ids',
                                               list(self.keep_ckpt_ids))

        ckpt_filename = self.filename_tmpl.format(step)
        self.last_ckpt = self.file_backend.join_path(self.out_dir,
                                                     ckpt_filename)
        runner.message_hub.update_info('last_ckpt', self.last_ckpt)
        local = self._local()
        runner.save_checkpoint(
            self.out_dir,
            ckpt_filename + '.tmp' if local else ckpt_filename,
            self.file_client_args,
            save_optimizer=self.save_optimizer,
            save_param_scheduler=self.save_param_scheduler,
            meta=meta,
            by_epoch=self.by_epoch,
            backend_args=self.backend_args,
            **self.args)
        if not is_main_process():
            return
        if local:
            os.replace(self.last_ckpt + '.tmp', self.last_ckpt)
        atomic_write_text(osp.join(runner.work_dir, 'last_checkpoint'),
                          self.last_ckpt)

    def after_load_checkpoint(self, runner, checkpoint: dict) -> None:
        state = checkpoint.get('meta', {}).get(RESUME_STATE)
        if state is not None:
            runner.message_hub.update_info(RESUME_STATE, state,
                                           resumed=False)
