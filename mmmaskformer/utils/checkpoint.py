"""Checkpoint loading that cannot run code or crash, and completeness.

A checkpoint is data; a config is code. Loading a checkpoint must never run
code from it, crash the process, or silently yield damaged weights:

* ``torch.load(weights_only=True)``, with an allow-list of exactly what
  mmengine checkpoints carry beyond tensors: numpy arrays, dtypes and
  scalars of plain numeric and bool dtypes
  (:mod:`~mmmaskformer.utils.pickled_numpy`, which never lets numpy unpickle
  a state) and the message hub's ``HistoryBuffer`` (data fields only,
  :mod:`~mmmaskformer.utils.pickled_history_buffer`). Anything else is
  refused with :class:`~mmmaskformer.errors.CheckpointError` naming the file
  and the type; ``tools/misc/trust_checkpoint.py`` converts a checkpoint you
  trust into the safe form.
* Before torch reads a zip checkpoint, the CRC-32 of every record is
  checked and compressed records have a size limit
  (:mod:`~mmmaskformer.utils.zip_records`).
* Through mmengine (``load_from``, ``--resume``, ``tools/test.py``, the
  inferencers), configs stored in the file are dropped:
  ``meta['config']``, which ``Runner.resume`` would otherwise execute with
  ``Config.fromstring``, ``meta['cfg']`` and the message hub's
  ``runtime_info['cfg']``, which mmengine's ``BaseInferencer`` would
  execute when built without a config. The run's config is its config file.

We re-register mmengine's loader for local files (``patch_checkpoint_loading``,
called when the package is imported). Remote schemes are untouched.
"""
import logging
import os
import os.path as osp
import pickle
import re
import zipfile
from typing import List, Optional, Tuple

import torch
from mmengine.logging import print_log
from mmengine.runner.checkpoint import CheckpointLoader

from mmmaskformer.errors import CheckpointError

from .pickle_recipes import PickleRefused, empty_bytes, materialize
from .pickled_history_buffer import HISTORY_BUFFER_PICKLE_NAMES
from .pickled_numpy import NUMPY_PICKLE_NAMES, PickledArray
from .zip_records import record_problem

CONVERT_HINT = ('If you trust the file, convert it with `python '
                'tools/misc/trust_checkpoint.py {file} OUT.pth` and load OUT.pth.')

_PICKLE_NAMES = dict(
    NUMPY_PICKLE_NAMES, **HISTORY_BUFFER_PICKLE_NAMES,
    **{'builtins.bytes': empty_bytes,
       f'{PickledArray.__module__}.PickledArray': PickledArray})
#: torch's ``safe_globals`` entries: (what we build, the name in the pickle)
SAFE_GLOBALS = [(obj, name) for name, obj in _PICKLE_NAMES.items()]


def safe_load(filename: str, map_location=None, max_inflated=None):
    """``torch.load(weights_only=True)`` with our allow-list; every record
    checked first; clear errors naming the file.

    ``max_inflated``: bytes that compressed records may expand to (default
    :func:`~mmmaskformer.utils.zip_records.inflated_limit`).
    """
    if not osp.isfile(filename):
        raise FileNotFoundError(f'checkpoint {filename} can not be found.')
    if osp.getsize(filename) == 0:
        raise CheckpointError(f'checkpoint {filename} is empty (0 bytes)')
    problem = record_problem(filename, max_inflated)
    if problem is not None:
        raise CheckpointError(f'checkpoint {filename}: {problem}')
    try:
        with torch.serialization.safe_globals(SAFE_GLOBALS):
            data = torch.load(filename, map_location=map_location,
                              weights_only=True)
        return materialize(data)
    except PickleRefused as e:
        raise CheckpointError(
            f'checkpoint {filename} holds {e}; refused (a checkpoint written '
            'by a run never does, and loading it could crash the process or '
            'corrupt its state). ' + CONVERT_HINT.format(file=filename)
        ) from None
    except pickle.UnpicklingError as e:
        found = re.search(r'GLOBAL ([\w.]+)', str(e))
        kind = found.group(1) if found else str(e).splitlines()[0]
        raise CheckpointError(
            f'checkpoint {filename} contains {kind}, which is not an allowed '
            'type (weights-only loading: tensors, containers, numbers, '
            'strings, numpy arrays of plain numeric dtypes and mmengine\'s '
            'HistoryBuffer). Loading it could run arbitrary code. ' +
            CONVERT_HINT.format(file=filename)) from None
    except (RuntimeError, EOFError, zipfile.BadZipFile, ValueError,
            TypeError) as e:
        raise CheckpointError(
            f'checkpoint {filename} is truncated or corrupt ('
            f'{type(e).__name__}: {str(e).splitlines()[0]}); it may have been '
            'cut off while being written. Resume from an earlier '
            'checkpoint.') from None


def drop_embedded_configs(checkpoint, filename: str) -> List[str]:
    """Remove the config strings mmengine would execute (see the module
    docstring); returns what was removed. ``meta['config']``, which mmengine
    itself never writes, is named in a warning."""
    dropped = []
    if not isinstance(checkpoint, dict):
        return dropped
    meta = checkpoint.get('meta')
    if isinstance(meta, dict):
        for key in ('config', 'cfg'):
            if key in meta:
                del meta[key]
                dropped.append(f"meta['{key}']")
    hub = checkpoint.get('message_hub')
    info = hub.get('runtime_info') if isinstance(hub, dict) else None
    if isinstance(info, dict) and 'cfg' in info:
        del info['cfg']
        dropped.append("message_hub['runtime_info']['cfg']")
    if "meta['config']" in dropped:
        print_log(
            f"checkpoint {filename}: ignored meta['config'] (a config stored "
            'in a checkpoint is Python code and is never run; the run\'s '
            'config is its config file)', logger='current',
            level=logging.WARNING)
    return dropped


def load_local_checkpoint(filename: str, map_location=None):
    """mmengine's ``load_from_local``, weights-only, without the configs
    stored in the file (see the module docstring)."""
    filename = osp.expanduser(filename)
    checkpoint = safe_load(filename, map_location)
    drop_embedded_configs(checkpoint, filename)
    return checkpoint


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
    return record_problem(filename)


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
