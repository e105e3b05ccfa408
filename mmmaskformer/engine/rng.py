"""Random number generator states: capture, restore, fork, per-sample seeds.

States are kept as plain tensors, ints and floats, so that a checkpoint that
carries them still loads with ``torch.load(weights_only=True)``.
"""
import contextlib
import random
from typing import Dict

import numpy as np
import torch


def capture_rng_state() -> Dict:
    """torch (CPU and every CUDA device), numpy and python ``random``."""
    kind, keys, pos, has_gauss, cached = np.random.get_state()
    version, internal, gauss_next = random.getstate()
    state = dict(
        torch=torch.get_rng_state(),
        numpy=dict(kind=kind, keys=torch.from_numpy(keys.astype(np.int64)),
                   pos=int(pos), has_gauss=int(has_gauss),
                   cached_gaussian=float(cached)),
        python=dict(version=version,
                    internal=torch.tensor(internal, dtype=torch.int64),
                    gauss_next=gauss_next))
    if torch.cuda.is_available() and torch.cuda.is_initialized():
        state['cuda'] = torch.cuda.get_rng_state_all()
    return state


def restore_rng_state(state: Dict) -> None:
    """Inverse of :func:`capture_rng_state`."""
    torch.set_rng_state(state['torch'])
    n = state['numpy']
    np.random.set_state((n['kind'], n['keys'].numpy().astype(np.uint32),
                         n['pos'], n['has_gauss'], n['cached_gaussian']))
    p = state['python']
    random.setstate((p['version'], tuple(int(v) for v in p['internal']),
                     p['gauss_next']))
    if 'cuda' in state and torch.cuda.is_available():
        torch.cuda.set_rng_state_all(state['cuda'])


@contextlib.contextmanager
def preserved_rng(with_cuda: bool = False):
    """Run a block without changing the process's RNG streams: CPU torch,
    numpy and python (raw states: the data pipeline forks them once per
    sample), and the CUDA generators too with ``with_cuda``."""
    if with_cuda:
        state = capture_rng_state()
        try:
            yield
        finally:
            restore_rng_state(state)
        return
    states = torch.get_rng_state(), np.random.get_state(), random.getstate()
    try:
        yield
    finally:
        torch.set_rng_state(states[0])
        np.random.set_state(states[1])
        random.setstate(states[2])


def sample_seed(seed: int, position: int, attempt: int = 0) -> int:
    """A 32-bit seed for the sample drawn at global ``position`` of a run.

    It depends on the run's seed and the position only, not on the rank, the
    number of processes or data-loader workers, or on what was drawn before.
    """
    return int(np.random.SeedSequence(
        [int(seed) & 0xFFFFFFFF, int(position), int(attempt)]).generate_state(1)[0])


def seed_everything(seed: int) -> None:
    """Seed python, numpy and torch's CPU generator (not CUDA's: a lazy
    CUDA seed would leak into the process's later CUDA streams)."""
    random.seed(seed)
    np.random.seed(seed)
    torch.random.default_generator.manual_seed(seed)
