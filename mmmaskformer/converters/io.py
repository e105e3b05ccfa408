"""Reading official checkpoints without running code from them.

detectron2 ``.pkl`` files are plain pickles: unpickling an arbitrary one can
run code. By default they are read with a restricted unpickler that builds
only what a detectron2 checkpoint holds (dicts, lists, numbers, strings,
numpy arrays, dtypes and scalars) and refuses any other type, naming the
file and the type. ``trust_pickle=True`` (``--trust-pickle`` in the tools)
unpickles without restriction, for a file whose source you trust.
``.pth`` files load with ``torch.load(weights_only=True)`` (unrestricted with
``trust_pickle=True``).
"""
import collections
import pickle

import numpy as np

from mmmaskformer.errors import CheckpointError
from mmmaskformer.utils.checkpoint import safe_load

_ALLOWED = {
    ('collections', 'OrderedDict'): collections.OrderedDict,
    ('numpy', 'ndarray'): np.ndarray,
    ('numpy', 'dtype'): np.dtype,
    ('numpy.core.multiarray', '_reconstruct'): np.core.multiarray._reconstruct,
    ('numpy.core.multiarray', 'scalar'): np.core.multiarray.scalar,
    ('numpy._core.multiarray', '_reconstruct'): np.core.multiarray._reconstruct,
    ('numpy._core.multiarray', 'scalar'): np.core.multiarray.scalar,
}


class _ArraysOnlyUnpickler(pickle.Unpickler):

    def __init__(self, f, path: str):
        super().__init__(f, encoding='latin1')
        self.path = path

    def find_class(self, module, name):
        found = _ALLOWED.get((module, name))
        if found is None and module == 'numpy.dtypes' and \
                name.endswith('DType'):
            found = getattr(np.dtypes, name, None)
        if found is None:
            raise CheckpointError(
                f'{self.path}: refusing to unpickle {module}.{name} (a '
                'detectron2 checkpoint or dataset index holds only arrays and '
                'plain containers; unpickling other types can run code). Pass '
                '--trust-pickle if you trust the file\'s source.')
        return found


def load_restricted_pickle(path: str, trust_pickle: bool = False):
    """Unpickle ``path`` building only arrays and plain containers (any
    other type: ``CheckpointError`` naming the file and the type), or
    without restriction with ``trust_pickle``."""
    with open(path, 'rb') as f:
        return pickle.load(f, encoding='latin1') if trust_pickle \
            else _ArraysOnlyUnpickler(f, path).load()


def load_official(path: str, trust_pickle: bool = False) -> dict:
    """The state dict of an official ``.pkl`` or ``.pth`` checkpoint."""
    if path.endswith('.pkl'):
        data = load_restricted_pickle(path, trust_pickle)
    elif trust_pickle:
        import torch
        data = torch.load(path, map_location='cpu', weights_only=False)
    else:
        data = safe_load(path, map_location='cpu')
    if isinstance(data, dict) and 'model' in data:
        data = data['model']
    elif isinstance(data, dict) and 'state_dict' in data:
        data = data['state_dict']
    if not isinstance(data, dict):
        raise ValueError(f'{path}: expected a dict of arrays, got '
                         f'{type(data).__name__}')
    return data
