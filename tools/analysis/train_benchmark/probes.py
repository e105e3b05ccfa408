"""An assigner that observes the matching of either model.

Both heads build their assigner from their config (ours:
``decode_head.criterion.assigner``, mmseg's: ``decode_head.train_cfg.
assigner``), and mmengine builds a ``type`` that is a class as that class.
So :func:`probe_config` puts :class:`MatchingProbe` in that place, holding
the original entry; the probe builds the real assigner from it, with the
registry it would have been built with, and forwards every call. Neither
model is patched: what the benchmark measures is built the way the config
says, with one more object in the call.
"""
import contextlib
from typing import Any, List, Optional, Tuple

import mmmaskformer  # noqa: F401  (registers our scope)
from mmmaskformer.registry import TASK_UTILS, build_scoped


def _build_ours(cfg: dict):
    return build_scoped(TASK_UTILS, cfg)


def _build_mmdet(cfg: dict):
    from mmdet.registry import TASK_UTILS as MMDET_TASK_UTILS
    return MMDET_TASK_UTILS.build(cfg)


BUILDERS = dict(ours=_build_ours, mmdet=_build_mmdet)


class MatchingProbe:
    """Builds ``assigner`` with ``BUILDERS[registry]`` and forwards to it.

    Around each ``assign`` call it tells ``clock`` (a
    :class:`~.phases.PhaseClock`, when set) that the ``'matching'`` phase
    runs, and inside :meth:`recording` it keeps each call's arguments and
    result in ``calls`` (a list of ``(args, kwargs, result)``). Any other
    attribute is the real assigner's (ours also offers ``cost_matrices``).
    """

    def __init__(self, assigner: dict, registry: str) -> None:
        if registry not in BUILDERS:
            raise ValueError(f'MatchingProbe: registry={registry!r}, '
                             f'expected one of {sorted(BUILDERS)}')
        self.assigner = BUILDERS[registry](assigner)
        self.clock = None
        self.calls: Optional[List[Tuple[tuple, dict, Any]]] = None

    def __getattr__(self, name: str):
        # only reached for attributes the probe itself lacks
        if name == 'assigner':
            raise AttributeError(name)
        return getattr(self.assigner, name)

    def assign(self, *args, **kwargs):
        phase = self.clock.nested('matching') if self.clock is not None \
            else contextlib.nullcontext()
        with phase:
            result = self.assigner.assign(*args, **kwargs)
        if self.calls is not None:
            self.calls.append((args, kwargs, result))
        return result

    @contextlib.contextmanager
    def recording(self):
        """Keep the calls made inside the block in ``self.calls``."""
        self.calls = []
        try:
            yield self.calls
        finally:
            self.calls = None


def probe_config(assigner_cfg: dict, registry: str) -> dict:
    """The config entry that builds a probe around ``assigner_cfg``."""
    return dict(type=MatchingProbe, assigner=dict(assigner_cfg),
                registry=registry)


def probe_of(model) -> MatchingProbe:
    """The probe a model was built with (ours: in the criterion)."""
    head = model.decode_head
    probe = head.criterion.assigner if hasattr(head, 'criterion') else \
        head.assigner
    if not isinstance(probe, MatchingProbe):
        raise TypeError(f'{type(model).__name__} was not built with a '
                        'MatchingProbe (see train_benchmark.models)')
    return probe


def argument(args: tuple, kwargs: dict, position: int, name: str) -> Any:
    """A recorded call's argument, passed by position or by name."""
    return kwargs[name] if name in kwargs else args[position]

