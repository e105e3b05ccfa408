"""numpy arrays, dtypes and scalars from a pickle, without numpy's unpickling.

numpy's own ``dtype.__setstate__`` and ``ndarray.__setstate__`` trust the
state they are handed: a void dtype whose state claims an object field,
with forged flags and 8 bytes of raw data, makes numpy ``Py_DECREF`` the
address ``0x4141...`` (a segfault when the checkpoint is loaded). So the
pickle names numpy writes are bound here to recipes
(:mod:`~mmmaskformer.utils.pickle_recipes`) that

* accept only the plain numeric and bool dtypes of :data:`PLAIN_DTYPES`
  (no fields, sub-arrays, objects, metadata; numpy's standard state and
  flags, byte order ``<``, ``>`` or ``|``),
* require the raw data to be exactly ``prod(shape) * itemsize`` bytes (bool
  bytes 0 or 1),
* and build the array with ``np.frombuffer`` (a copy, writable).

numpy never sees a pickled state. Empty arrays (data ``b''``) are fine.
Python 2 pickles read with ``encoding='latin1'`` carry the data as ``str``;
it is encoded back as numpy does.
"""
import math
from typing import Any, Dict

import numpy as np

from .pickle_recipes import PickleRefused, Recipe

#: dtype codes as numpy pickles them (``np.dtype('f4').__reduce__()``)
PLAIN_DTYPES = ('b1', 'i1', 'i2', 'i4', 'i8', 'u1', 'u2', 'u4', 'u8', 'f2',
                'f4', 'f8', 'c8', 'c16')
_MAX_DIMS = 32  # numpy 1.x's NPY_MAXDIMS


def _raw_bytes(data, what: str) -> bytes:
    if isinstance(data, str):  # a Python 2 pickle read with latin1
        return data.encode('latin1')
    if isinstance(data, (bytes, bytearray)):
        return bytes(data)
    raise PickleRefused(f'{what}: data is a {type(data).__name__}, not bytes '
                        '(object arrays are not allowed)')


class PickledDType:
    """``numpy.dtype(code, align, copy)`` then its ``__setstate__``."""

    dtype = None  # stays None for an instance made without __init__

    def __init__(self, code=None, align=False, copy=False):
        if not (isinstance(code, str) and code in PLAIN_DTYPES) or \
                type(align) is not bool or type(copy) is not bool:
            raise PickleRefused(
                f'numpy dtype{(code, align, copy)!r}: only plain numeric and '
                f'bool dtypes ({", ".join(PLAIN_DTYPES)}) are allowed')
        self.dtype = np.dtype(code)

    def __setstate__(self, state) -> None:
        if self.dtype is None:
            raise PickleRefused('a numpy dtype without its type code')
        plain = (3, '|' if self.dtype.itemsize == 1 else '<', None, None,
                 None, -1, -1, 0)
        if not isinstance(state, tuple) or len(state) not in (8, 9) or \
                state[0] not in (3, 4) or len(state) != state[0] + 5 or \
                (len(state) == 9 and state[8] not in (None, {})):
            raise PickleRefused(f'numpy dtype {self.dtype.str} with state '
                                f'{state!r:.200}: not a plain dtype state')
        endian, rest = state[1], state[2:8]
        if rest != plain[2:] or not isinstance(endian, str) or \
                endian not in (('|', ) if self.dtype.itemsize == 1 else
                               ('<', '>', '=')):
            raise PickleRefused(
                f'numpy dtype {self.dtype.str} with state {state!r:.200}: '
                'fields, sub-arrays, objects, flags or byte order of a dtype '
                'that is not plain numeric or bool')
        if endian in '<>':
            self.dtype = self.dtype.newbyteorder(endian)


def _checked_dtype(dtype, what: str) -> np.dtype:
    if not isinstance(dtype, PickledDType) or dtype.dtype is None:
        raise PickleRefused(f'{what}: its dtype is a '
                            f'{type(dtype).__name__}, not a plain numpy dtype')
    return dtype.dtype


def _array_from(data, dtype: np.dtype, shape, fortran: bool,
                what: str) -> np.ndarray:
    if not isinstance(shape, tuple) or len(shape) > _MAX_DIMS or not all(
            type(n) is int and n >= 0 for n in shape):
        raise PickleRefused(f'{what}: shape {shape!r:.100} is not a tuple of '
                            'at most 32 non-negative ints')
    raw = _raw_bytes(data, what)
    if math.prod(shape) * dtype.itemsize != len(raw):
        raise PickleRefused(
            f'{what}: {len(raw)} bytes of data for shape {shape} of '
            f'{dtype.str} ({math.prod(shape) * dtype.itemsize} expected)')
    if dtype.kind == 'b' and raw.translate(None, b'\x00\x01'):
        raise PickleRefused(f'{what}: a bool that is neither 0 nor 1')
    flat = np.frombuffer(raw, dtype=dtype)
    return flat.reshape(shape, order='F' if fortran else 'C').copy(order='A')


class PickledNDArrayType:
    """``numpy.ndarray`` as a pickle names it: only an argument of
    :func:`reconstruct`; constructing or building one is refused."""

    def __init__(self, *args):
        raise PickleRefused(f'numpy.ndarray{args!r:.100}: only '
                            '_reconstruct(ndarray, (0,), b"b") is allowed')

    def __setstate__(self, state):
        raise PickleRefused('numpy.ndarray state on a non-array')


class PickledArray(Recipe):
    """``_reconstruct(ndarray, (0,), b'b')``; ``__setstate__`` checks the
    state ``(1, shape, dtype, is_fortran, data)`` and builds the array."""

    array = None

    def __setstate__(self, state) -> None:
        if not isinstance(state, tuple) or len(state) != 5 or \
                state[0] != 1 or type(state[3]) is not bool:
            raise PickleRefused(f'numpy array state {state!r:.200}: not '
                                '(1, shape, dtype, is_fortran, data)')
        _, shape, dtype, fortran, data = state
        self.array = _array_from(data, _checked_dtype(dtype, 'numpy array'),
                                 shape, fortran, 'numpy array')

    def build(self, materialize) -> np.ndarray:
        if self.array is None:
            raise PickleRefused('a numpy array without its data')
        return self.array


def reconstruct(cls=None, shape=None, typecode=None) -> PickledArray:
    """``numpy.core.multiarray._reconstruct`` (how every pickled array
    starts)."""
    if cls is not PickledNDArrayType or shape != (0, ) or typecode != b'b':
        raise PickleRefused(f'numpy _reconstruct{(cls, shape, typecode)!r:.100}'
                            ': only _reconstruct(ndarray, (0,), b"b") is '
                            'allowed')
    return PickledArray()


def frombuffer(data=None, dtype=None, shape=None, order='C') -> np.ndarray:
    """``numpy.core.numeric._frombuffer`` (pickle protocol 5)."""
    if order not in ('C', 'F'):
        raise PickleRefused(f'numpy _frombuffer order {order!r:.20}')
    return _array_from(data, _checked_dtype(dtype, 'numpy _frombuffer'),
                       shape, order == 'F', 'numpy _frombuffer')


def scalar(dtype=None, data=None) -> np.generic:
    """``numpy.core.multiarray.scalar``: a numpy number (``np.float64`` ...)."""
    value = _array_from(data, _checked_dtype(dtype, 'numpy scalar'), (),
                        False, 'numpy scalar')
    return value[()]


#: pickle name -> what our unpicklers bind it to (numpy 1.x and 2.x names)
NUMPY_PICKLE_NAMES: Dict[str, Any] = {
    'numpy.dtype': PickledDType,
    'numpy.ndarray': PickledNDArrayType,
}
for _core in ('numpy.core', 'numpy._core'):
    NUMPY_PICKLE_NAMES.update({
        f'{_core}.multiarray._reconstruct': reconstruct,
        f'{_core}.multiarray.scalar': scalar,
        f'{_core}.numeric._frombuffer': frombuffer,
    })
