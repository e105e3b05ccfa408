"""An ``InfiniteSampler`` whose global order does not depend on the world size.

mmengine's ``InfiniteSampler`` already slices one seeded global permutation
by rank, so N processes of batch b see the same *sets* of samples per step
as 1 process of batch N*b. What it lacks for exact resume and world-size
invariance:

* it cannot start at a position (mmengine's loop replays every skipped
  batch through the pipeline to get there), and
* a sample's random augmentation depends on which process or worker loads
  it and on what that worker loaded before.

This sampler yields :class:`SampleIndex` values: plain ``int`` dataset
indices that also carry their global draw ``position`` and the sampler's
``seed``. ``SampleGuard`` (see :mod:`.guarded_dataset`) seeds the pipeline
of every sample from ``(seed, position)``, so a sample is augmented the same
way whatever the number of processes or workers, and a resumed run starts
at the saved position without loading the skipped samples. The seed travels
with the index because data-loader workers hold copies of the dataset made
when they started: a resume that restores the saved seed (see
:mod:`.loops`) sets it on the sampler, in the main process, only.
"""
import itertools
from typing import Iterator, Optional, Sized

import torch
from mmengine.dataset import InfiniteSampler as MMEngineInfiniteSampler

from mmmaskformer.registry import DATA_SAMPLERS


class SampleIndex(int):
    """A dataset index that remembers its global draw position and the seed
    of the sampler that drew it (``None``: the dataset's own)."""

    position: int
    seed: Optional[int]

    def __new__(cls, index: int, position: int, seed: Optional[int] = None):
        obj = super().__new__(cls, index)
        obj.position = position
        obj.seed = seed
        return obj

    def __reduce__(self):  # keep ``position`` and ``seed`` across workers
        return SampleIndex, (int(self), self.position, self.seed)


@DATA_SAMPLERS.register_module()
class PositionalInfiniteSampler(MMEngineInfiniteSampler):
    """mmengine's ``InfiniteSampler`` (same arguments and order) that can
    start at a global position and yields :class:`SampleIndex`.

    Global position ``p`` is the ``p``-th index of the seeded infinite
    permutation stream; rank ``r`` of ``W`` takes positions ``start + r,
    start + r + W, ...``, so step ``t`` of any world size with per-rank batch
    ``b`` covers positions ``[start + t*W*b, start + (t+1)*W*b)``.
    """

    def __init__(self, dataset: Sized, shuffle: bool = True,
                 seed: Optional[int] = None) -> None:
        super().__init__(dataset, shuffle=shuffle, seed=seed)
        self.set_start(0)

    def set_start(self, position: int) -> None:
        """Make the next ``iter()`` start at global ``position`` (of the
        stream of ``self.seed``, which may be set before)."""
        self.start = int(position)
        self._stream = self._sample_indices()

    def __iter__(self) -> Iterator[SampleIndex]:
        # one stream: a second iter() continues it, as mmengine's does
        yield from self._stream

    def _sample_indices(self) -> Iterator[SampleIndex]:
        g = torch.Generator()
        g.manual_seed(self.seed)
        # skip the whole permutations before the start
        epoch, offset = divmod(self.start, self.size)
        for _ in range(epoch):
            if self.shuffle:
                torch.randperm(self.size, generator=g)
        position = self.start + self.rank

        def stream():
            while True:
                if self.shuffle:
                    yield from torch.randperm(self.size, generator=g).tolist()
                else:
                    yield from range(self.size)

        for index in itertools.islice(stream(), offset + self.rank, None,
                                      self.world_size):
            yield SampleIndex(index, position, self.seed)
            position += self.world_size
