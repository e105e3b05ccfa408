"""The ``mmmaskformer`` registry scope.

Our configs name every class of this package ``mmmaskformer.<Name>``; an
unprefixed name is always an upstream class. With ``default_scope =
'mmmaskformer'`` an unprefixed name resolves as it does in mmseg's scope
(mmseg's datasets, transforms, ``EncoderDecoder``, backbones ..., then
mmengine's), and mmdet types take the ``mmdet.`` prefix.

Each registry is a child of mmengine's root registry, like mmseg's and
mmdet's, so ``mmmaskformer.<Name>`` resolves from any scope, including an
entry that an ``mmseg::`` or ``mmdet::`` base stamped with its ``_scope_``
(mmengine looks a prefixed scope up among the root's children only).
"""
from mmengine.registry import FUNCTIONS as MMENGINE_FUNCTIONS
from mmengine.registry import Registry
from mmseg.registry import DATA_SAMPLERS as MMSEG_DATA_SAMPLERS
from mmseg.registry import DATASETS as MMSEG_DATASETS
from mmseg.registry import EVALUATOR as MMSEG_EVALUATOR
from mmseg.registry import HOOKS as MMSEG_HOOKS
from mmseg.registry import INFERENCERS as MMSEG_INFERENCERS
from mmseg.registry import LOG_PROCESSORS as MMSEG_LOG_PROCESSORS
from mmseg.registry import LOOPS as MMSEG_LOOPS
from mmseg.registry import METRICS as MMSEG_METRICS
from mmseg.registry import MODEL_WRAPPERS as MMSEG_MODEL_WRAPPERS
from mmseg.registry import MODELS as MMSEG_MODELS
from mmseg.registry import OPTIM_WRAPPER_CONSTRUCTORS as MMSEG_OPTIM_WRAPPER_CONSTRUCTORS
from mmseg.registry import OPTIM_WRAPPERS as MMSEG_OPTIM_WRAPPERS
from mmseg.registry import OPTIMIZERS as MMSEG_OPTIMIZERS
from mmseg.registry import PARAM_SCHEDULERS as MMSEG_PARAM_SCHEDULERS
from mmseg.registry import RUNNERS as MMSEG_RUNNERS
from mmseg.registry import TASK_UTILS as MMSEG_TASK_UTILS
from mmseg.registry import TRANSFORMS as MMSEG_TRANSFORMS
from mmseg.registry import VISBACKENDS as MMSEG_VISBACKENDS
from mmseg.registry import VISUALIZERS as MMSEG_VISUALIZERS
from mmseg.registry import WEIGHT_INITIALIZERS as MMSEG_WEIGHT_INITIALIZERS

SCOPE = 'mmmaskformer'


class ScopeRegistry(Registry):
    """A registry of our scope: our own names, then unprefixed names as
    mmseg's registry of the same kind resolves them."""

    def __init__(self, name: str, mmseg: Registry) -> None:
        # importing the package registers every module of the scope
        super().__init__(name, parent=mmseg.parent, scope=SCOPE,
                         locations=[SCOPE])
        self.mmseg = mmseg

    def get(self, key: str):
        scope, real_key = self.split_scope_key(key)
        if scope is None and real_key not in self.module_dict:
            return self.mmseg.get(real_key)
        return super().get(key)


def _child(name: str, mmseg: Registry) -> Registry:
    return ScopeRegistry(name, mmseg)


RUNNERS = _child('runner', MMSEG_RUNNERS)
LOOPS = _child('loop', MMSEG_LOOPS)
HOOKS = _child('hook', MMSEG_HOOKS)
DATASETS = _child('dataset', MMSEG_DATASETS)
DATA_SAMPLERS = _child('data sampler', MMSEG_DATA_SAMPLERS)
TRANSFORMS = _child('transform', MMSEG_TRANSFORMS)
MODELS = _child('model', MMSEG_MODELS)
MODEL_WRAPPERS = _child('model_wrapper', MMSEG_MODEL_WRAPPERS)
WEIGHT_INITIALIZERS = _child('weight initializer', MMSEG_WEIGHT_INITIALIZERS)
OPTIMIZERS = _child('optimizer', MMSEG_OPTIMIZERS)
OPTIM_WRAPPERS = _child('optim_wrapper', MMSEG_OPTIM_WRAPPERS)
OPTIM_WRAPPER_CONSTRUCTORS = _child('optimizer wrapper constructor',
                                    MMSEG_OPTIM_WRAPPER_CONSTRUCTORS)
PARAM_SCHEDULERS = _child('parameter scheduler', MMSEG_PARAM_SCHEDULERS)
METRICS = _child('metric', MMSEG_METRICS)
EVALUATOR = _child('evaluator', MMSEG_EVALUATOR)
TASK_UTILS = _child('task util', MMSEG_TASK_UTILS)
VISUALIZERS = _child('visualizer', MMSEG_VISUALIZERS)
VISBACKENDS = _child('vis_backend', MMSEG_VISBACKENDS)
LOG_PROCESSORS = _child('log_processor', MMSEG_LOG_PROCESSORS)
INFERENCERS = _child('inferencer', MMSEG_INFERENCERS)
# mmseg has no function registry: ours is mmengine's child, so that the
# collate function resolves without a fallback warning
FUNCTIONS = Registry('function', parent=MMENGINE_FUNCTIONS, scope=SCOPE)


def build_scoped(registry: Registry, cfg: dict, **default_args):
    """Build ``cfg`` in our scope unless it names another (``mmdet.X``).

    Sub-modules built from inside our modules go through this, so that an
    unprefixed ``type`` can never resolve to another package's class of the
    same name, whatever the run's default scope is.
    """
    cfg = dict(cfg)
    cfg.setdefault('_scope_', SCOPE)
    return registry.build(cfg, default_args=default_args or None)
