"""mmmaskformer: MaskFormer as an OpenMMLab 2.0 plugin.

Importing the package registers every module under the ``mmmaskformer``
registry scope and makes mmengine load local checkpoints weights-only
(see :mod:`mmmaskformer.utils.checkpoint`).
"""
from .utils.dependencies import check_dependencies

check_dependencies()

# Our registries are children of mmseg's: fill the parents so that unprefixed
# mmseg types (EncoderDecoder, ResNet, IoUMetric, transforms ...) resolve.
import mmseg.datasets  # noqa: E402,F401
import mmseg.engine  # noqa: E402,F401
import mmseg.evaluation  # noqa: E402,F401
import mmseg.models  # noqa: E402,F401
import mmseg.visualization  # noqa: E402,F401

from . import apis, datasets, engine, evaluation, models  # noqa: E402,F401
from .utils.checkpoint import patch_checkpoint_loading  # noqa: E402

patch_checkpoint_loading()

from .version import __version__  # noqa: E402

__all__ = ['__version__']
