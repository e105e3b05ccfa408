"""Run-level guarantees on top of mmengine: exact resume, atomic checkpoints,
the bad-sample policy and the non-finite-loss guard (see README,
"Reliability")."""
from mmmaskformer.errors import BadSampleError, CheckpointError, NonFiniteLossError, RunStopped

from .checkpoint_hook import AtomicCheckpointHook
from .guarded_dataset import SampleGuard
from .loops import CheckedTestLoop, CheckedValLoop, ResumableIterBasedTrainLoop
from .optim_constructor import MaskFormerOptimWrapperConstructor, parameter_rules
from .optim_wrapper import FiniteLossAmpOptimWrapper, FiniteLossOptimWrapper
from .rng import capture_rng_state, restore_rng_state, sample_seed
from .sampler import PositionalInfiniteSampler, SampleIndex

__all__ = [
    'AtomicCheckpointHook', 'BadSampleError', 'CheckedTestLoop',
    'CheckedValLoop', 'CheckpointError', 'FiniteLossAmpOptimWrapper',
    'FiniteLossOptimWrapper', 'MaskFormerOptimWrapperConstructor',
    'NonFiniteLossError', 'PositionalInfiniteSampler',
    'ResumableIterBasedTrainLoop', 'RunStopped', 'SampleGuard', 'SampleIndex',
    'capture_rng_state', 'parameter_rules', 'restore_rng_state', 'sample_seed'
]
