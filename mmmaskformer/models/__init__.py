from .assigners import *  # noqa: F401,F403
from .backbones import *  # noqa: F401,F403
from .heads import *  # noqa: F401,F403
from .inference import *  # noqa: F401,F403
from .losses import *  # noqa: F401,F403
from .pixel_decoders import *  # noqa: F401,F403
from .segmentors import *  # noqa: F401,F403
from .transformer_decoders import *  # noqa: F401,F403
