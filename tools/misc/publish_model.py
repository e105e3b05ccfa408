"""Prepare a checkpoint for release: weights and plain metadata only, named
with the first 8 hex digits of its sha256.

    python tools/misc/publish_model.py work_dirs/run/iter_160000.pth \
        checkpoints/maskformer_r50_ade20k.pth
    # -> checkpoints/maskformer_r50_ade20k-<sha256[:8]>.pth

Drops the optimizer, the schedulers, the message hub (mmengine's
``HistoryBuffer`` objects), our resume state (``meta['resume_state']``: every
rank's RNG states and the loop's counters, whose plain parts would otherwise
pass as metadata) and any metadata value that is not a plain number, string
or container of them, so that the file loads with a bare
``torch.load(path, weights_only=True)`` (no allow-list). Each dropped
metadata key is named in the output.
mmseg's own ``publish_model.py`` keeps the message hub (which bare
weights-only loading refuses), hashes the input instead of the written
file, and cuts the name with ``rstrip('.pth')`` (``depth.pth`` ->
``de-<sha>.pth``). The input loads weights-only with our allow-list.
"""
import argparse
import hashlib
import os
import os.path as osp
import sys
from typing import Optional

sys.path.insert(0, osp.dirname(osp.dirname(osp.dirname(osp.abspath(
    __file__)))))

import torch  # noqa: E402

from mmmaskformer.errors import CheckpointError  # noqa: E402
from mmmaskformer.utils.checkpoint import safe_load  # noqa: E402

PLAIN = (str, int, float, bool, type(None))
#: ``meta`` entries that are run state (for ``--resume``), not metadata
RUN_STATE_KEYS = ('resume_state', )


_DROP = object()


def plain(value):
    """``value`` if it is plain; a dict keeps its plain entries; a list or
    tuple with a non-plain item is dropped whole (its positions mean
    something)."""
    if isinstance(value, PLAIN):
        return value
    if isinstance(value, (list, tuple)):
        items = [plain(v) for v in value]
        if any(i is _DROP for i in items):
            return _DROP
        return type(value)(items)
    if isinstance(value, dict):
        return {k: p for k, p in ((k, plain(v)) for k, v in value.items())
                if isinstance(k, PLAIN) and p is not _DROP}
    return _DROP


def sha256sum(path: str) -> str:
    digest = hashlib.sha256()
    with open(path, 'rb') as f:
        for block in iter(lambda: f.read(1 << 20), b''):
            digest.update(block)
    return digest.hexdigest()


def published_meta(meta, dropped: list) -> dict:
    """``meta`` without run state and non-plain values; ``dropped`` gets
    the names of what was left out."""
    if not isinstance(meta, dict):
        return {}
    out = {}
    for key, value in meta.items():
        kept = _DROP if key in RUN_STATE_KEYS else plain(value)
        if not isinstance(key, PLAIN) or kept is _DROP:
            dropped.append(f'meta[{key!r}]')
        else:
            out[key] = kept
    return out


def publish(src: str, dst: str, dropped: Optional[list] = None) -> str:
    checkpoint = safe_load(src, map_location='cpu')
    state_dict = checkpoint.get('state_dict') if isinstance(
        checkpoint, dict) else None
    if not isinstance(state_dict, dict) or not all(
            isinstance(v, torch.Tensor) for v in state_dict.values()):
        raise CheckpointError(f'{src}: no `state_dict` of tensors')
    dropped = [] if dropped is None else dropped
    out = dict(state_dict=state_dict,
               meta=published_meta(checkpoint.get('meta'), dropped))
    stem = dst[:-len('.pth')] if dst.endswith('.pth') else dst
    os.makedirs(osp.dirname(osp.abspath(dst)), exist_ok=True)
    tmp = stem + '.publishing.tmp'
    torch.save(out, tmp)
    final = f'{stem}-{sha256sum(tmp)[:8]}.pth'
    os.replace(tmp, final)
    return final


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('in_file', help='checkpoint written by a run')
    parser.add_argument('out_file', help='output name (sha256 appended)')
    args = parser.parse_args(argv)
    dropped = []
    final = publish(args.in_file, args.out_file, dropped)
    if dropped:
        print('dropped ' + ', '.join(dropped))
    print(f'{final} ({osp.getsize(final) / 2**20:.1f} MiB, sha256 '
          f'{sha256sum(final)})')
    return final


if __name__ == '__main__':
    from mmmaskformer.utils.tool_config import stops_with_one_message
    with stops_with_one_message():
        main()
