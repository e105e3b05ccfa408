"""An assigner that observes the matching of either model.

Both heads build their assigner from their config (ours:
``decode_head.criterion.assigner``, mmseg's: ``decode_head.train_cfg.
assigner``), and mmengine builds a ``type`` that is a class as that class.
So :func:`probe_config` puts :class:`MatchingProbe` in that place (ours'
Mask2Former: ``panoptic_head.criterion.matcher``; mmdet's Mask2Former:
the detector's ``train_cfg.assigner``), holding the original entry; the
probe builds the real assigner from it, with the registry it would have
been built with, and forwards every call. Neither model is patched: what
the benchmark measures is built the way the config says, with one more
object in the call.
"""
import contextlib
import functools
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

    Around each call of a public method (mmdet's ``assign``; our MaskFormer
    assigner's ``assign``, our Mask2Former matcher's ``match`` or whatever
    the criterion calls) it tells ``clock`` (a :class:`~.phases.PhaseClock`,
    when set) that the ``'matching'`` phase runs, and inside
    :meth:`recording` it keeps each call's arguments and result in
    ``calls`` (a list of ``(args, kwargs, result)``; ``method`` names the
    method of each). Any other attribute is the real assigner's.
    """

    def __init__(self, assigner: dict, registry: str) -> None:
        if registry not in BUILDERS:
            raise ValueError(f'MatchingProbe: registry={registry!r}, '
                             f'expected one of {sorted(BUILDERS)}')
        self.assigner = BUILDERS[registry](assigner)
        self.clock = None
        self.calls: Optional[List[Tuple[tuple, dict, Any]]] = None
        self.methods: Optional[List[str]] = None

    def __getattr__(self, name: str):
        # only reached for attributes the probe itself lacks
        if name in ('assigner', 'clock', 'calls', 'methods'):
            raise AttributeError(name)
        value = getattr(self.assigner, name)
        if callable(value) and not name.startswith('_'):
            return functools.partial(self._call, name)
        return value

    def _call(self, method: str, *args, **kwargs):
        phase = self.clock.nested('matching') if self.clock is not None \
            else contextlib.nullcontext()
        with phase:
            result = getattr(self.assigner, method)(*args, **kwargs)
        if self.calls is not None:
            self.calls.append((args, kwargs, result))
            self.methods.append(method)
        return result

    def assign(self, *args, **kwargs):
        return self._call('assign', *args, **kwargs)

    @contextlib.contextmanager
    def recording(self):
        """Keep the calls made inside the block in ``self.calls``."""
        self.calls, self.methods = [], []
        try:
            yield self.calls
        finally:
            self.calls = self.methods = None


def probe_config(assigner_cfg: dict, registry: str) -> dict:
    """The config entry that builds a probe around ``assigner_cfg``."""
    return dict(type=MatchingProbe, assigner=dict(assigner_cfg),
                registry=registry)


def head_of(model):
    """The head of either model: ``decode_head`` (mmseg's segmentors) or
    ``panoptic_head`` (the panoptic detectors, ours and mmdet's)."""
    head = getattr(model, 'decode_head', None)
    return head if head is not None else model.panoptic_head


def probe_of(model) -> MatchingProbe:
    """The probe a model was built with (ours: in the criterion, as its
    ``assigner`` (MaskFormer) or ``matcher`` (Mask2Former))."""
    head = head_of(model)
    criterion = getattr(head, 'criterion', None)
    if criterion is None:
        probe = head.assigner
    else:
        probe = getattr(criterion, 'matcher', None) or criterion.assigner
    if not isinstance(probe, MatchingProbe):
        raise TypeError(f'{type(model).__name__} was not built with a '
                        'MatchingProbe (see train_benchmark.models)')
    return probe


def argument(args: tuple, kwargs: dict, position: int, name: str) -> Any:
    """A recorded call's argument, passed by position or by name."""
    return kwargs[name] if name in kwargs else args[position]

