"""Reading official checkpoints without running code from them.

detectron2 ``.pkl`` files are plain pickles: unpickling an arbitrary one can
run code, and numpy's own unpickling of a crafted array can crash the
process. By default they are read with a restricted unpickler that builds
only what a detectron2 checkpoint holds (dicts, lists, numbers, strings,
numpy arrays and scalars of plain numeric and bool dtypes, built from
checked data by :mod:`mmmaskformer.utils.pickled_numpy`) and refuses
anything else, naming the file and what it refused. ``trust_pickle=True``
(``--trust-pickle`` in the tools) unpickles without restriction, for a file
whose source you trust.
``.pth`` files load with ``torch.load(weights_only=True)`` (unrestricted with
``trust_pickle=True``).
"""
import collections
import pickle

from mmmaskformer.errors import CheckpointError
from mmmaskformer.utils.checkpoint import safe_load
from mmmaskformer.utils.pickle_recipes import PickleRefused, empty_bytes, materialize
from mmmaskformer.utils.pickled_numpy import NUMPY_PICKLE_NAMES


def _latin1(text=None, encoding=None) -> bytes:
    """``_codecs.encode(text, 'latin1')``: how protocol-2 pickles write
    bytes; no other codec."""
    if not isinstance(text, str) or encoding not in ('latin1', 'latin-1'):
        raise PickleRefused(f'_codecs.encode(..., {encoding!r:.20}): only '
                            'latin1 text is allowed')
    return text.encode('latin1')


#: what a detectron2 checkpoint or dataset index may build (numpy through
#: validated recipes, see mmmaskformer.utils.pickled_numpy)
_ALLOWED = dict(NUMPY_PICKLE_NAMES, **{
    'collections.OrderedDict': collections.OrderedDict,
    'builtins.bytes': empty_bytes,
    '_codecs.encode': _latin1,
})


class _ArraysOnlyUnpickler(pickle.Unpickler):

    def __init__(self, f, path: str):
        super().__init__(f, encoding='latin1')
        self.path = path

    def find_class(self, module, name):
        if module == '__builtin__':  # Python 2 pickles
            module = 'builtins'
        found = _ALLOWED.get(f'{module}.{name}')
        if found is None:
            raise CheckpointError(
                f'{self.path}: refusing to unpickle {module}.{name} (a '
                'detectron2 checkpoint or dataset index holds only arrays and '
                'plain containers; unpickling other types can run code). Pass '
                '--trust-pickle if you trust the file\'s source.')
        return found


def load_restricted_pickle(path: str, trust_pickle: bool = False):
    """Unpickle ``path`` building only numpy arrays of plain numeric dtypes
    and plain containers (anything else: ``CheckpointError`` naming the file
    and what was refused), or without restriction with ``trust_pickle``."""
    with open(path, 'rb') as f:
        if trust_pickle:
            return pickle.load(f, encoding='latin1')
        try:
            return materialize(_ArraysOnlyUnpickler(f, path).load())
        except PickleRefused as e:
            raise CheckpointError(
                f'{path}: refusing {e} (a detectron2 checkpoint or dataset '
                'index holds only numeric arrays and plain containers). Pass '
                '--trust-pickle if you trust the file\'s source.') from None
        except (pickle.UnpicklingError, EOFError, ValueError, TypeError,
                IndexError) as e:
            raise CheckpointError(
                f'{path}: not a readable pickle ({type(e).__name__}: '
                f'{str(e)[:200]}); truncated or not a checkpoint') from None


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
        raise CheckpointError(f'{path}: expected a dict of arrays, got '
                              f'{type(data).__name__}')
    return data
