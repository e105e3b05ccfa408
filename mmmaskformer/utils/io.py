"""Atomic file writers: a reader sees the old file or the complete new one,
never a partial one (written to ``<path>.tmp``, then ``os.replace``)."""
import os


def atomic_write_text(path: str, text: str) -> None:
    tmp = f'{path}.tmp'
    with open(tmp, 'w') as f:
        f.write(text)
        f.flush()
        os.fsync(f.fileno())
    os.replace(tmp, path)


def atomic_save(obj, path: str) -> None:
    """``torch.save`` to ``path.tmp``, then rename: never a partial file."""
    import torch
    tmp = f'{path}.tmp'
    torch.save(obj, tmp)
    os.replace(tmp, path)
