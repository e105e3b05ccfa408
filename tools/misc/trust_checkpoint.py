"""Convert a checkpoint you trust into one that loads weights-only.

    python tools/misc/trust_checkpoint.py OLD.pth NEW.pth

``OLD.pth`` is unpickled WITHOUT restriction (it can run code: use this only
on files whose source you trust). Everything is kept that weights-only
loading accepts (tensors, containers, numbers, strings, numpy arrays of
plain numeric and bool dtypes, mmengine's ``HistoryBuffer``); numpy scalars
become Python numbers, and any other object (an object or string array
too) is dropped, each named in the output. ``NEW.pth`` then loads
with ``load_from``, ``--resume`` and ``tools/test.py``.
"""
import argparse
import collections
import os.path as osp
import sys

sys.path.insert(0, osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__)))))

import numpy as np  # noqa: E402
import torch  # noqa: E402
from mmengine.logging import HistoryBuffer  # noqa: E402

import mmmaskformer  # noqa: E402,F401
from mmmaskformer.utils.checkpoint import safe_load  # noqa: E402
from mmmaskformer.utils.pickled_numpy import PLAIN_DTYPES  # noqa: E402

PLAIN = (str, int, float, bool, bytes, type(None), torch.Tensor,
         torch.dtype, torch.device, torch.Size, HistoryBuffer)


def sanitize(obj, path: str, dropped: list):
    if isinstance(obj, PLAIN):
        return obj
    if isinstance(obj, np.ndarray) and obj.dtype.str[1:] in PLAIN_DTYPES \
            and type(obj) is np.ndarray:
        return obj
    if isinstance(obj, np.generic):
        return obj.item()
    if isinstance(obj, dict):
        out = collections.OrderedDict() \
            if isinstance(obj, collections.OrderedDict) else {}
        for k, v in obj.items():
            kept = sanitize(v, f'{path}.{k}', dropped)
            if kept is not _DROP:
                out[k] = kept
        return out
    if isinstance(obj, (list, tuple)):
        items = [sanitize(v, f'{path}[{i}]', dropped)
                 for i, v in enumerate(obj)]
        items = [v for v in items if v is not _DROP]
        return items if isinstance(obj, list) else tuple(items)
    dropped.append(f'{path} ({type(obj).__module__}.{type(obj).__name__})')
    return _DROP


_DROP = object()


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('src', help='a checkpoint whose source you trust')
    parser.add_argument('dst', help='the weights-only loadable output')
    args = parser.parse_args(argv)
    data = torch.load(args.src, map_location='cpu', weights_only=False)
    dropped = []
    clean = sanitize(data, 'checkpoint', dropped)
    torch.save(clean, args.dst)
    safe_load(args.dst)  # proves the output loads weights-only
    for d in dropped:
        print(f'dropped {d}')
    print(f'{args.src} -> {args.dst} (loads with weights_only=True)')


if __name__ == '__main__':
    main()
