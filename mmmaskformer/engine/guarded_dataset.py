"""The bad-sample policy and per-sample seeding, around any dataset.

``SampleGuard`` wraps the dataset of a data loader (our loops put it there,
see :mod:`.loops`). For every sample it

1. seeds python, numpy and torch from ``(seed, global position)`` when
   the index comes from our :class:`~.sampler.PositionalInfiniteSampler`
   (the seed is the sampler's, carried by the index), and restores the
   process's own streams afterwards;
2. runs the dataset's pipeline; any failure (a file that is missing, empty,
   truncated or not an image, a label of the wrong size, channels or values,
   an inconsistent panoptic annotation ...) becomes a
   :class:`~.errors.BadSampleError` naming the files and the reason;
3. applies the policy: ``'error'`` raises it; ``'skip'`` logs a warning,
   draws another sample (deterministically, from the same seed) and reports
   the skip with the batch (``SKIPPED_KEY``, one string per sample), so that the training loop
   counts skips and stops when too many samples were bad.
"""
import contextlib
import copy
from typing import List, Optional

import numpy as np
from mmengine.logging import print_log

from mmmaskformer.errors import BadSampleError, printable
from mmmaskformer.registry import DATASETS

from .rng import preserved_rng, sample_seed, seed_everything

SKIPPED_KEY = '_skipped_samples'
POLICIES = ('error', 'skip')
FILE_KEYS = ('img_path', 'seg_map_path', 'ann_file')


def sample_files(dataset, index: int) -> str:
    """The files of sample ``index``, for messages."""
    try:
        info = dataset.get_data_info(int(index))
    except Exception:  # noqa: BLE001 - only used to name things
        return f'sample {int(index)}'
    files = [str(info[k]) for k in FILE_KEYS if info.get(k)]
    return ', '.join(files) if files else f'sample {int(index)}'


def _iter_transforms(transforms):
    for t in transforms:
        yield t
        for name in ('transforms', 'subroutines'):  # Compose, TestTimeAug
            inner = getattr(t, name, None)
            if isinstance(inner, (list, tuple)):
                for sub in inner:
                    yield from _iter_transforms(
                        sub if isinstance(sub, (list, tuple)) else [sub])


def configure_label_checks(dataset) -> None:
    """Tell the loading transforms of ``dataset`` its label space.

    Our ``LoadAnnotations`` checks label values against ``[0, K)`` and the
    ignore index when it knows them; K is the number of classes in the
    dataset's metainfo and the ignore index the dataset's ``ignore_index``.
    """
    pipeline = getattr(dataset, 'pipeline', None)
    classes = getattr(dataset, 'metainfo', {}).get('classes')
    if pipeline is None or not classes:
        return
    for t in _iter_transforms(getattr(pipeline, 'transforms', [])):
        if hasattr(t, 'set_label_space'):
            t.set_label_space(len(classes),
                              getattr(dataset, 'ignore_index', 255))


@contextlib.contextmanager
def unreadable_dataset_stops(name):
    """A dataset whose files cannot be listed or read (a symlink loop in
    its image folder, a missing folder, no permission) stops with one line
    naming the path, not a traceback from inside mmengine's file listing."""
    try:
        yield
    except OSError as e:
        where = f'{printable(e.filename)}: ' if e.filename else ''
        raise BadSampleError(f'cannot read dataset {name}: '
                             f'{where}{e.strerror or e}') from e


@DATASETS.register_module()
class SampleGuard:
    """Wrap ``dataset`` with per-sample seeding and the bad-sample policy.

    Args:
        dataset: the dataset or its config.
        bad_sample: ``'error'`` or ``'skip'``.
        seed: the run's seed, for indices that carry none.
        max_retries: draws tried in a row before giving up on a sample
            (``'skip'``).
    """

    def __init__(self, dataset, bad_sample: str = 'error',
                 seed: Optional[int] = 0, max_retries: int = 20) -> None:
        if bad_sample not in POLICIES:
            raise ValueError(f'bad_sample={bad_sample!r}: expected one of '
                             f'{POLICIES}')
        if isinstance(dataset, dict):
            with unreadable_dataset_stops(dataset.get('type')):
                dataset = DATASETS.build(copy.deepcopy(dataset))
        self.dataset = dataset
        self.bad_sample = bad_sample
        self.seed = 0 if seed is None else int(seed)
        self.max_retries = max_retries
        self._label_checks_set = False
        self._bad_reasons = None  # filled once by _parse_errors

    # -------------------------------------------------- dataset interface
    def full_init(self) -> None:
        if hasattr(self.dataset, 'full_init'):
            with unreadable_dataset_stops(type(self.dataset).__name__):
                self.dataset.full_init()
        self._check_parse_errors()

    def _parse_errors(self) -> dict:
        """{index: reason} of the samples the dataset marked bad while
        parsing its annotations (``bad_reason``), found once."""
        if self._bad_reasons is None:
            self._bad_reasons = {}
            if hasattr(self.dataset, 'get_data_info'):
                for i in range(len(self.dataset)):  # data_list may be packed
                    info = self.dataset.get_data_info(i)
                    if isinstance(info, dict) and info.get('bad_reason'):
                        self._bad_reasons[i] = (info.get('img_path'),
                                                info['bad_reason'])
        return self._bad_reasons

    def _check_parse_errors(self) -> None:
        bad = list(self._parse_errors().values())
        if not bad:
            return
        lines = [f'{path}: {reason}' for path, reason in bad[:10]]
        more = f' (and {len(bad) - 10} more)' if len(bad) > 10 else ''
        if self.bad_sample == 'error':
            raise BadSampleError(
                f'{len(bad)} bad sample(s) in the annotations{more}:\n' +
                '\n'.join(lines))
        print_log(f'{len(bad)} bad sample(s) in the annotations will be '
                  f'skipped when drawn{more}:\n' + '\n'.join(lines),
                  logger='current', level=30)

    @property
    def metainfo(self):
        return self.dataset.metainfo

    def __len__(self) -> int:
        return len(self.dataset)

    def get_data_info(self, idx: int) -> dict:
        return self.dataset.get_data_info(idx)

    def __getattr__(self, name):
        if name == 'dataset':  # not set yet (unpickling)
            raise AttributeError(name)
        return getattr(self.dataset, name)

    # ---------------------------------------------------------- sampling
    def _load(self, index: int):
        """Run the pipeline of ``index``; any failure -> BadSampleError."""
        bad = self._parse_errors().get(int(index))
        if bad is not None:
            raise BadSampleError(
                f'bad sample {sample_files(self.dataset, index)}: {bad[1]}')
        try:
            data = self.dataset[int(index)]
        except BadSampleError:
            raise
        except Exception as e:  # noqa: BLE001 - every failure names the file
            reason = f'{type(e).__name__}: {e}'.strip()
            raise BadSampleError(
                f'bad sample {sample_files(self.dataset, index)}: '
                f'{reason}') from e
        if data is None:
            raise BadSampleError(
                f'bad sample {sample_files(self.dataset, index)}: the '
                'pipeline returned no data')
        return data

    def __getitem__(self, idx):
        if not self._label_checks_set:
            configure_label_checks(self.dataset)
            self._label_checks_set = True
        position = getattr(idx, 'position', None)
        seed = getattr(idx, 'seed', None)  # the sampler's, after a resume too
        seed = self.seed if seed is None else int(seed)
        skipped: List[str] = []
        index = int(idx)
        for attempt in range(self.max_retries + 1):
            try:
                if position is None:
                    data = self._load(index)
                else:
                    with preserved_rng():
                        seed_everything(sample_seed(seed, position,
                                                    attempt))
                        data = self._load(index)
                break
            except BadSampleError as e:
                if self.bad_sample == 'error':
                    raise
                skipped.append(str(e))
                print_log(f'skipping {e}', logger='current', level=30)
                rng = np.random.default_rng(
                    sample_seed(seed, -1 if position is None else position,
                                attempt + 1))
                index = int(rng.integers(len(self.dataset)))
        else:
            raise BadSampleError(
                f'{self.max_retries + 1} samples in a row were bad; the last '
                f'ones:\n' + '\n'.join(skipped[-3:]))
        if self.bad_sample == 'skip' and isinstance(data, dict):
            data[SKIPPED_KEY] = '\n'.join(skipped)  # a string collates
        return data
