"""Checkpoint loading that cannot run code, and checkpoint completeness.

torch >= 2.6 loads with ``weights_only=True``; mmengine 0.10.7 checkpoints
also carry the message hub's ``HistoryBuffer`` and numpy arrays, which that
unpickler refuses by default. We re-register mmengine's loader for local
files so that it loads with ``weights_only=True`` and an allow-list of
exactly those types (plus numpy dtypes and scalars, and the buffer's
statistics methods by name). Anything else is
refused with :class:`~mmmaskformer.errors.CheckpointError` naming the
file and the type; ``tools/misc/trust_checkpoint.py`` converts a checkpoint
you trust into the safe form. Remote schemes are untouched.
"""
import os
import os.path as osp
import pickle
import re
import zipfile
from typing import List, Optional, Tuple

import numpy as np
import torch
from mmengine.logging import HistoryBuffer
from mmengine.runner.checkpoint import CheckpointLoader

from mmmaskformer.errors import CheckpointError

CONVERT_HINT = ('If you trust the file, convert it with `python '
                'tools/misc/trust_checkpoint.py {file} OUT.pth` and load OUT.pth.')


def _numpy_globals() -> list:
    out = [np.ndarray, np.dtype, np.core.multiarray._reconstruct,
           np.core.multiarray.scalar]
    dtypes = getattr(np, 'dtypes', None)
    if dtypes is not None:
        out += [getattr(dtypes, n) for n in dir(dtypes) if n.endswith('DType')]
    return out


def history_buffer_statistic(obj, name: str):
    """The only ``getattr`` a checkpoint may call.

    ``HistoryBuffer.__getstate__`` pickles its statistics methods as
    ``getattr(HistoryBuffer, 'min')`` etc.; a general ``getattr`` would let a
    crafted file reach any attribute of an allowed object.
    """
    if obj is HistoryBuffer and name in ('min', 'max', 'current', 'mean'):
        return getattr(HistoryBuffer, name)
    raise pickle.UnpicklingError(
        f'GLOBAL builtins.getattr({getattr(obj, "__name__", obj)!r}, '
        f'{name!r}) is not allowed')


SAFE_GLOBALS = [HistoryBuffer, (history_buffer_statistic, 'builtins.getattr')
                ] + _numpy_globals()


def safe_load(filename: str, map_location=None):
    """``torch.load(weights_only=True)`` with our allow-list; clear errors."""
    if not osp.isfile(filename):
        raise FileNotFoundError(f'checkpoint {filename} can not be found.')
    if osp.getsize(filename) == 0:
        raise CheckpointError(f'checkpoint {filename} is empty (0 bytes)')
    try:
        with torch.serialization.safe_globals(SAFE_GLOBALS):
            return torch.load(filename, map_location=map_location,
                              weights_only=True)
    except pickle.UnpicklingError as e:
        found = re.search(r'GLOBAL ([\w.]+)', str(e))
        kind = found.group(1) if found else str(e).splitlines()[0]
        raise CheckpointError(
            f'checkpoint {filename} contains {kind}, which is not an allowed '
            'type (weights-only loading: tensors, containers, numbers, '
            'strings, numpy arrays and mmengine\'s HistoryBuffer). Loading '
            'it could run arbitrary code. ' +
            CONVERT_HINT.format(file=filename)) from None
    except (RuntimeError, EOFError, zipfile.BadZipFile, ValueError) as e:
        raise CheckpointError(
            f'checkpoint {filename} is truncated or corrupt ('
            f'{type(e).__name__}: {str(e).splitlines()[0]}); it may have been '
            'cut off while being written. Resume from an earlier '
            'checkpoint.') from None


def load_local_checkpoint(filename: str, map_location=None):
    """mmengine's ``load_from_local``, weights-only (see module docstring)."""
    return safe_load(osp.expanduser(filename), map_location)


def patch_checkpoint_loading() -> None:
    CheckpointLoader.register_scheme(prefixes='', force=True)(
        load_local_checkpoint)


def checkpoint_problem(filename: str) -> Optional[str]:
    """Why ``filename`` is not a complete torch checkpoint, or None."""
    if not osp.isfile(filename):
        return 'no such file'
    if osp.getsize(filename) == 0:
        return 'empty file (0 bytes)'
    if not zipfile.is_zipfile(filename):
        return ('not a complete torch checkpoint (no zip end record: '
                'truncated or not a checkpoint)')
    try:
        with zipfile.ZipFile(filename) as z:
            names = z.namelist()
    except (zipfile.BadZipFile, OSError) as e:
        return f'unreadable zip ({e})'
    if not any(n.endswith('/data.pkl') or n == 'data.pkl' for n in names):
        return 'not a torch checkpoint (no data.pkl)'
    return None


_CKPT = re.compile(r'^(iter|epoch)_(\d+)\.pth$')


def find_resumable_checkpoint(work_dir: str) -> Tuple[Optional[str], List[str]]:
    """The newest complete ``iter_N.pth``/``epoch_N.pth`` in ``work_dir``.

    Returns (path or None, messages about incomplete files passed over).
    ``last_checkpoint`` is not trusted: a run killed while writing it (with
    mmengine's own hook) can leave it empty or pointing at a partial file.
    """
    if not osp.isdir(work_dir):
        return None, []
    found = []
    for name in os.listdir(work_dir):
        m = _CKPT.match(name)
        if m:
            found.append((int(m.group(2)), name))
    skipped = []
    for _, name in sorted(found, reverse=True):
        path = osp.join(work_dir, name)
        problem = checkpoint_problem(path)
        if problem is None:
            return path, skipped
        skipped.append(f'{path}: {problem}; passed over')
    return None, skipped
