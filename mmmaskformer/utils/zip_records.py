"""Every record of a checkpoint's zip archive intact, and of bounded size.

A torch checkpoint is a zip archive: ``data.pkl`` plus one record per
tensor storage. torch reads the records without checking their CRC-32, so
64 overwritten bytes inside a tensor load as garbage (NaNs that a run then
blames on its images). And torch inflates deflate-compressed records, which
``torch.save`` never writes: a crafted 262 KB record becomes a 256 MiB
tensor. So before torch reads a file, every record is read once here, in
1 MiB blocks: zipfile checks its CRC-32, and compressed records may expand
to at most :func:`inflated_limit` bytes in all (stored records are bounded
by the file itself). Cost: one extra read of the file.
"""
import os
import zipfile
import zlib
from typing import Optional

#: the limit on what the compressed records of one checkpoint expand to
DEFAULT_MAX_INFLATED_MB = 64
#: environment variable that overrides it (MiB)
MAX_INFLATED_ENV = 'MMMASKFORMER_MAX_INFLATED_MB'
_BLOCK = 1 << 20


def inflated_limit() -> int:
    """Bytes that the compressed records of one file may expand to:
    ``$MMMASKFORMER_MAX_INFLATED_MB`` MiB, default 64."""
    value = os.environ.get(MAX_INFLATED_ENV, '')
    try:
        mb = float(value) if value else DEFAULT_MAX_INFLATED_MB
    except ValueError:
        raise ValueError(f'{MAX_INFLATED_ENV}={value!r} is not a number of '
                         'MiB') from None
    return int(mb * 2**20)


def record_problem(path: str, max_inflated: Optional[int] = None
                   ) -> Optional[str]:
    """What is wrong with a record of the zip archive ``path`` (naming the
    record), or None. A file that is not a zip archive (torch's legacy
    format) has no records to check: None."""
    if not zipfile.is_zipfile(path):
        return None
    limit = inflated_limit() if max_inflated is None else max_inflated
    inflated = 0
    name = None
    try:
        with zipfile.ZipFile(path) as archive:
            for info in archive.infolist():
                name = info.filename
                compressed = info.compress_type != zipfile.ZIP_STORED
                if not compressed and info.file_size != info.compress_size:
                    return (f'record {name!r} is stored with {info.file_size}'
                            f' bytes but takes {info.compress_size}')
                if compressed and inflated + info.file_size > limit:
                    return _too_big(name, inflated + info.file_size, limit)
                with archive.open(info) as record:
                    while True:
                        block = record.read(_BLOCK)
                        if not block:
                            break
                        if compressed:
                            inflated += len(block)
                            if inflated > limit:
                                return _too_big(name, inflated, limit)
    except (zipfile.BadZipFile, zlib.error, EOFError, OSError,
            NotImplementedError, RuntimeError) as e:
        where = f'record {name!r}' if name else 'the zip directory'
        return (f'{where} is corrupt ({type(e).__name__}: {e}): the file was '
                'damaged after it was written; use an intact copy or an '
                'earlier checkpoint')
    return None


def _too_big(name: str, size: int, limit: int) -> str:
    return (f'record {name!r} is compressed and expands beyond '
            f'{limit / 2**20:g} MiB (at least {size} bytes; torch.save never '
            f'compresses records). If you trust the file, raise the limit '
            f'with {MAX_INFLATED_ENV}=<MiB>')
