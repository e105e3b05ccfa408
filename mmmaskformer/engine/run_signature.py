"""What a resumed run must share with the checkpoint to continue exactly.

A checkpoint's resume state records the global batch size, the length of
the training dataset and the configured learning rates. On ``--resume`` the
training loop compares them with the run's own: a change means that the
sampler's positions, the schedule or the optimizer state no longer mean
what they meant when the checkpoint was written. The loop then refuses
(``--resume-changed`` / ``train_cfg.resume_changed=True`` to go on with a
warning that names the change).
"""
from typing import Dict, List, Optional

from mmengine.dist import get_world_size


def per_rank_batch_size(dataloader) -> int:
    """The batch size of ``dataloader`` (also behind a batch sampler)."""
    batch = getattr(dataloader, 'batch_size', None)
    if batch is None:
        batch = getattr(getattr(dataloader, 'batch_sampler', None),
                        'batch_size', 1)
    return int(batch)


def configured_learning_rates(optim_wrapper) -> Optional[List[float]]:
    """The base learning rate of each parameter group (``initial_lr``, set
    by the schedulers, else ``lr``); ``None`` when there is no optimizer."""
    groups = getattr(optim_wrapper, 'param_groups', None)
    if isinstance(groups, dict):  # OptimWrapperDict
        groups = [g for name in sorted(groups) for g in groups[name]]
    if not groups:
        return None
    return [float(g.get('initial_lr', g.get('lr', 0.0))) for g in groups]


def run_signature(dataloader, optim_wrapper) -> Dict:
    """Batch sizes, dataset length and base learning rates of a run."""
    per_rank = per_rank_batch_size(dataloader)
    return dict(batch_size=per_rank * get_world_size(),
                batch_per_process=per_rank, world_size=get_world_size(),
                dataset_length=len(dataloader.dataset),
                lr=configured_learning_rates(optim_wrapper))


def _batch(sig) -> str:
    return (f"{sig['batch_size']} ({sig['world_size']} x "
            f"{sig['batch_per_process']})")


def changes_since(saved: Dict, now: Dict) -> List[str]:
    """What changed between the ``saved`` signature and ``now``: one phrase
    per change (batch size, dataset length, learning rate)."""
    changes = []
    if saved.get('batch_size') != now['batch_size']:
        changes.append(f'batch size {_batch(saved)} in the checkpoint, '
                       f'{_batch(now)} now')
    if saved.get('dataset_length') != now['dataset_length']:
        changes.append(f"dataset length {saved.get('dataset_length')} in "
                       f"the checkpoint, {now['dataset_length']} now")
    old, new = saved.get('lr'), now['lr']
    if old is not None and new is not None:
        if len(old) != len(new):
            changes.append(f'{len(old)} parameter groups in the checkpoint, '
                           f'{len(new)} now')
        else:
            for i, (a, b) in enumerate(zip(old, new)):
                if a != b:
                    changes.append(
                        f'learning rate {a:g} in the checkpoint, {b:g} now '
                        f'(parameter group {i}; the restored optimizer and '
                        'scheduler states keep the checkpoint\'s rates)')
                    break
    return changes
