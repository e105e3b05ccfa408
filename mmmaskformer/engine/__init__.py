"""Run-level guarantees on top of mmengine: exact resume, atomic checkpoints,
the bad-sample policy and the non-finite-loss guard (see README,
"Reliability")."""
from .checkpoint_hook import CheckpointHook
from .errors import (BadSampleError, CheckpointError, NonFiniteLossError,
                     RunStopped)
from .guarded_dataset import SampleGuard
from .loops import IterBasedTrainLoop, TestLoop, ValLoop
from .optim_constructor import (MaskFormerOptimWrapperConstructor,
                                parameter_rules)
from .optim_wrapper import AmpOptimWrapper, OptimWrapper
from .rng import capture_rng_state, restore_rng_state, sample_seed
from .sampler import InfiniteSampler, SampleIndex

__all__ = [
    'AmpOptimWrapper', 'BadSampleError', 'CheckpointError', 'CheckpointHook',
    'InfiniteSampler', 'IterBasedTrainLoop', 'MaskFormerOptimWrapperConstructor',
    'NonFiniteLossError', 'parameter_rules',
    'OptimWrapper', 'RunStopped', 'SampleGuard', 'SampleIndex', 'TestLoop',
    'ValLoop', 'capture_rng_state', 'restore_rng_state', 'sample_seed'
]
