"""mmengine's ``HistoryBuffer`` from a checkpoint, data fields only.

mmengine checkpoints carry the message hub's buffers. Their pickled state
is ``max_length``, ``_log_history``, ``_count_history`` and
``statistics_methods``, and ``HistoryBuffer.__setstate__`` merges the last
into the class-wide ``_statistics_methods`` dict: a crafted state mapping
``'mean'`` to ``HistoryBuffer.max`` makes every buffer's mean lie for the
rest of the process. Here the state is checked (those four keys only; the
statistics exactly mmengine's own names, mapped to themselves; two 1-D
numeric histories of one length) and the buffer is built with the public
constructor ``HistoryBuffer(log_history, count_history, max_length)``, so
nothing class-wide is touched.
"""
import numpy as np
from mmengine.logging import HistoryBuffer

from .pickle_recipes import PickleRefused, Recipe

_STATISTICS = ('min', 'max', 'current', 'mean')
_FIELDS = {'max_length', '_log_history', '_count_history',
           'statistics_methods'}


class Statistic:
    """``getattr(HistoryBuffer, name)`` as a checkpoint names it."""

    def __init__(self, name: str):
        self.name = name


def history_buffer_statistic(obj, name):
    """The only ``builtins.getattr`` a checkpoint may call: mmengine pickles
    a buffer's statistics methods as ``getattr(HistoryBuffer, 'mean')``."""
    if obj is PickledHistoryBuffer and name in _STATISTICS:
        return Statistic(name)
    raise PickleRefused(
        f'builtins.getattr({getattr(obj, "__name__", type(obj).__name__)}, '
        f'{name!r:.50}): only HistoryBuffer\'s {"/".join(_STATISTICS)}')


class PickledHistoryBuffer(Recipe):
    """``mmengine.logging.history_buffer.HistoryBuffer`` as a pickle
    builds it (``NEWOBJ`` then ``BUILD``)."""

    state = None

    def __init__(self, *args):
        raise PickleRefused('HistoryBuffer(...) called from a checkpoint: '
                            'only its pickled state is allowed')

    def __setstate__(self, state) -> None:
        if not isinstance(state, dict) or not set(state) <= _FIELDS or \
                not {'_log_history', '_count_history'} <= set(state):
            keys = sorted(map(str, state)) if isinstance(state, dict) \
                else type(state).__name__
            raise PickleRefused(f'HistoryBuffer state {keys}: allowed are '
                                f'{sorted(_FIELDS)}')
        methods = state.get('statistics_methods', {})
        if not isinstance(methods, dict) or not all(
                isinstance(v, Statistic) and v.name == k
                for k, v in methods.items()):
            raise PickleRefused(
                'HistoryBuffer statistics_methods other than mmengine\'s '
                f'own {"/".join(_STATISTICS)}')
        max_length = state.get('max_length', 1000000)
        if type(max_length) is not int or max_length < 1:
            raise PickleRefused(f'HistoryBuffer max_length {max_length!r:.50}')
        self.state = state

    def build(self, materialize) -> HistoryBuffer:
        if self.state is None:
            raise PickleRefused('a HistoryBuffer without its state')
        log = materialize(self.state['_log_history'])
        count = materialize(self.state['_count_history'])
        for name, value in (('_log_history', log), ('_count_history', count)):
            if not isinstance(value, np.ndarray) or value.ndim != 1 or \
                    value.dtype.kind not in 'biuf':
                raise PickleRefused(f'HistoryBuffer {name} is not a 1-D '
                                    'numeric array')
        if len(log) != len(count):
            raise PickleRefused(f'HistoryBuffer histories of lengths '
                                f'{len(log)} and {len(count)}')
        return HistoryBuffer(log, count, self.state.get('max_length', 1000000))


#: pickle name -> what our unpickler binds it to
HISTORY_BUFFER_PICKLE_NAMES = {
    'mmengine.logging.history_buffer.HistoryBuffer': PickledHistoryBuffer,
    'builtins.getattr': history_buffer_statistic,
}
