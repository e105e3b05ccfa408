"""Objects that a restricted unpickler builds in two steps: a recipe while
unpickling, the real object after it.

Pickle builds an object by calling a named function (``REDUCE``) and then
handing the result its state (``BUILD`` calls ``__setstate__``). For numpy
arrays and mmengine's ``HistoryBuffer`` that second step is where a crafted
file does harm: numpy trusts a pickled dtype's flags, and
``HistoryBuffer.__setstate__`` writes into a dict shared by every buffer of
the process. So our unpicklers bind those pickle names to :class:`Recipe`
objects, which check the state they are given, and :func:`materialize`
replaces every recipe in the loaded tree by the object it describes, built
through public constructors only.
"""
from abc import ABC, abstractmethod
from typing import Any, Callable, Dict


class PickleRefused(Exception):
    """A pickle asks for something that a checkpoint never holds.

    Not a ``pickle.UnpicklingError``: torch rewraps those in a long generic
    text, and the loader wants this message as it is (it names the field).
    """


class Recipe(ABC):
    """What a restricted unpickler builds in place of an unsafe object."""

    @abstractmethod
    def build(self, materialize: Callable[[Any], Any]) -> Any:
        """The real object; ``materialize`` turns nested recipes into
        objects first."""


def empty_bytes(*args) -> bytes:
    """``builtins.bytes`` as protocol-2 pickles use it: ``bytes()`` is how
    they write ``b''`` (an empty array's data). Any argument is refused:
    ``bytes(10**12)`` would allocate a terabyte."""
    if args:
        raise PickleRefused(f'builtins.bytes{args!r}: only bytes() (b\'\') '
                            'is allowed')
    return b''


def materialize(obj: Any) -> Any:
    """``obj`` with every :class:`Recipe` inside it replaced by its object.

    Dicts and lists are updated in place (shared and self-referencing
    containers stay so); tuples and sets are rebuilt when a member changes.
    Tensors and other leaves are returned as they are.
    """
    done: Dict[int, Any] = {}

    def walk(value):
        key = id(value)
        if key in done:
            return done[key]
        if isinstance(value, Recipe):
            done[key] = value  # a cycle through a recipe stays a recipe
            built = value.build(walk)
            done[key] = built
            return built
        if isinstance(value, dict):
            done[key] = value
            for k in list(value):
                if isinstance(k, Recipe):
                    raise PickleRefused(
                        f'a {type(k).__name__} used as a dictionary key')
                new = walk(value[k])
                if new is not value[k]:
                    value[k] = new
            return value
        if isinstance(value, list):
            done[key] = value
            for i, item in enumerate(value):
                new = walk(item)
                if new is not item:
                    value[i] = new
            return value
        if isinstance(value, (tuple, set, frozenset)):
            done[key] = value
            items = [walk(item) for item in value]
            if any(a is not b for a, b in zip(items, value)):
                try:
                    value = type(value)(items)
                except TypeError as e:  # an array in a set
                    raise PickleRefused(
                        f'a {type(value).__name__} of unhashable '
                        f'values ({e})') from None
            done[key] = value
            return value
        return value

    try:
        return walk(obj)
    except RecursionError:
        raise PickleRefused('containers nested too deeply') from None
