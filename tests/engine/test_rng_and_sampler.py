"""The sampler's global order, resume positions and per-sample seeds."""
import itertools
import random

import numpy as np
import torch
from mmengine.dataset import InfiniteSampler as MMEngineInfiniteSampler

from mmmaskformer.engine import (
    PositionalInfiniteSampler,
    SampleIndex,
    capture_rng_state,
    restore_rng_state,
    sample_seed,
)


def ranks(world_size, start=0, n=12, size=10, seed=3):
    out = []
    for rank in range(world_size):
        s = PositionalInfiniteSampler(list(range(size)), shuffle=True, seed=seed)
        s.rank, s.world_size = rank, world_size
        s.set_start(start)
        out.append(list(itertools.islice(iter(s), n)))
    return out


def test_same_order_as_mmengine_and_positions():
    ours = ranks(1, n=25)[0]
    theirs = MMEngineInfiniteSampler(list(range(10)), shuffle=True, seed=3)
    assert [int(i) for i in ours] == list(itertools.islice(iter(theirs), 25))
    assert [i.position for i in ours] == list(range(25))


def test_global_batches_do_not_depend_on_world_size():
    (single,) = ranks(1, n=24)
    two = ranks(2, n=12)
    four = ranks(4, n=6)
    b = 4
    for step in range(3):  # global batch of 8 = 1x8 = 2x4 = 4x2
        g1 = single[step * 8:(step + 1) * 8]
        g2 = sum((r[step * b:(step + 1) * b] for r in two), [])
        g4 = sum((r[step * 2:(step + 1) * 2] for r in four), [])
        key = lambda xs: sorted((i.position, int(i)) for i in xs)  # noqa
        assert key(g1) == key(g2) == key(g4)


def test_start_position_continues_the_stream():
    (full,) = ranks(1, n=40)
    (resumed,) = ranks(1, start=23, n=17)
    assert [(int(i), i.position) for i in resumed] == \
        [(int(i), i.position) for i in full[23:]]
    two_full = ranks(2, n=20)
    two_resumed = ranks(2, start=16, n=12)
    for r in range(2):
        assert [(int(i), i.position) for i in two_resumed[r]] == \
            [(int(i), i.position) for i in two_full[r][8:]]


def test_sample_index_survives_pickling():
    import pickle
    i = pickle.loads(pickle.dumps(SampleIndex(7, 123, 45)))
    assert int(i) == 7 and i.position == 123 and isinstance(i, int)
    assert i.seed == 45


def test_reseeded_sampler_continues_the_stream_of_its_new_seed():
    (of_5, ) = ranks(1, n=30, seed=5)
    s = PositionalInfiniteSampler(list(range(10)), shuffle=True, seed=3)
    s.seed = 5  # a resume restores the saved seed
    s.set_start(12)
    got = list(itertools.islice(iter(s), 18))
    assert [(int(i), i.position) for i in got] == \
        [(int(i), i.position) for i in of_5[12:]]
    assert {i.seed for i in got} == {5}
    assert [int(i) for i in of_5[:10]] != [int(i) for i in ranks(1, n=10)[0]]


class NoisyDataset:
    """Each sample is a numpy draw: what a random augmentation sees."""

    def __len__(self):
        return 4

    def __getitem__(self, i):
        return dict(value=float(np.random.rand()))


def test_guard_seeds_from_the_index_seed_over_its_own():
    from mmmaskformer.engine import SampleGuard
    guard0 = SampleGuard(NoisyDataset(), seed=0)
    guard7 = SampleGuard(NoisyDataset(), seed=7)
    own = guard0[SampleIndex(1, 5)]['value']
    assert guard0[SampleIndex(1, 5)]['value'] == own  # seeded
    carried = guard0[SampleIndex(1, 5, seed=7)]['value']
    assert carried == guard7[SampleIndex(1, 5)]['value'] != own


def test_sample_seeds():
    assert sample_seed(0, 5) == sample_seed(0, 5)
    assert len({sample_seed(0, p) for p in range(1000)}) == 1000
    assert sample_seed(0, 5) != sample_seed(1, 5)
    assert sample_seed(0, 5, 0) != sample_seed(0, 5, 1)


def test_rng_state_roundtrip():
    torch.manual_seed(1)
    np.random.seed(2)
    random.seed(3)
    torch.rand(3), np.random.rand(3), random.random(), np.random.randn()
    state = capture_rng_state()
    expected = (torch.rand(5), np.random.rand(5), random.random(),
                np.random.randn())
    torch.manual_seed(9)
    np.random.seed(9)
    random.seed(9)
    restore_rng_state(state)
    got = (torch.rand(5), np.random.rand(5), random.random(),
           np.random.randn())
    assert torch.equal(expected[0], got[0])
    assert np.array_equal(expected[1], got[1])
    assert expected[2] == got[2] and expected[3] == got[3]
    # plain tensors and numbers only: loads weights-only
    import io
    buf = io.BytesIO()
    torch.save(state, buf)
    buf.seek(0)
    torch.load(buf, weights_only=True)
