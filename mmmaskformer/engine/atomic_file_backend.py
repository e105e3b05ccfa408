"""An mmengine file backend whose writes are atomic and whose deletions wait.

Registered with mmengine's public ``register_backend`` as
``'mmmaskformer_atomic_local'`` and selected through a checkpoint hook's
``backend_args``, it changes two things of mmengine's ``LocalBackend``:

* ``put``/``put_text`` write ``<path>.tmp``, flush it to disk and rename it
  into place (``os.replace``): a reader, or a run killed in the middle of
  the write, sees the previous file or the complete new one, never a
  truncated one.
* ``remove``/``rmtree`` only *note* the path. mmengine's ``CheckpointHook``
  deletes the oldest checkpoint (``max_keep_ckpts``) and the previous best
  (``save_best``) *before* it writes the new one; with this backend the
  deletion happens when the hook calls :meth:`flush_removals`, after the
  new file is renamed into place and ``last_checkpoint`` names it. A kill
  in between leaves one checkpoint too many, never one too few.

Everything else (reading, listing, joining paths) is ``LocalBackend``'s.
"""
import os
import os.path as osp
from typing import List, Tuple, Union

from mmengine.fileio import LocalBackend, register_backend
from mmengine.utils import mkdir_or_exist

ATOMIC_LOCAL_BACKEND = 'mmmaskformer_atomic_local'


def is_remote(path) -> bool:
    """An ``s3://``-style URI, which mmengine gives to another backend."""
    return path is not None and '://' in str(path)


def _fsync_dir(path: str) -> None:
    """Make a rename in ``path`` durable (a no-op where unsupported)."""
    try:
        fd = os.open(path, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


def write_bytes_atomically(data: bytes, path: str) -> None:
    """``path`` holds its old content or all of ``data``, whatever happens.

    The ``.tmp`` file is left behind if the process dies while writing it;
    ``--resume`` never takes it for a checkpoint.
    """
    directory = osp.dirname(osp.abspath(path))
    mkdir_or_exist(directory)
    tmp = f'{path}.tmp'
    with open(tmp, 'wb') as f:
        f.write(data)
        f.flush()
        os.fsync(f.fileno())
    os.replace(tmp, path)
    _fsync_dir(directory)


@register_backend(ATOMIC_LOCAL_BACKEND)
class AtomicLocalBackend(LocalBackend):
    """See the module docstring."""

    def __init__(self) -> None:
        super().__init__()
        self.pending_removals: List[Tuple[str, str]] = []

    def put(self, obj: bytes, filepath: Union[str, os.PathLike]) -> None:
        write_bytes_atomically(obj, str(filepath))

    def put_text(self, obj: str, filepath: Union[str, os.PathLike],
                 encoding: str = 'utf-8') -> None:
        self.put(obj.encode(encoding), filepath)

    def remove(self, filepath: Union[str, os.PathLike]) -> None:
        self.pending_removals.append(('file', str(filepath)))

    def rmtree(self, dir_path: Union[str, os.PathLike]) -> None:
        self.pending_removals.append(('dir', str(dir_path)))

    def flush_removals(self, keep=()) -> List[str]:
        """Delete what ``remove``/``rmtree`` noted, except the paths in
        ``keep`` (the files the hook still names: a noted path may have been
        written again since, by another instance of this backend, as
        ``Runner.save_checkpoint`` builds its own); returns the paths
        deleted."""
        keep = {osp.abspath(str(k)) for k in keep if k}
        done = []
        pending, self.pending_removals = self.pending_removals, []
        for kind, path in pending:
            if osp.abspath(path) in keep:
                continue
            if kind == 'dir' and osp.isdir(path):
                super().rmtree(path)
                done.append(path)
            elif kind == 'file' and osp.isfile(path):
                super().remove(path)
                done.append(path)
        return done
