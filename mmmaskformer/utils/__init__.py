from .checkpoint import load_local_checkpoint, patch_checkpoint_loading
from .dependencies import check_dependencies

__all__ = [
    'check_dependencies', 'load_local_checkpoint', 'patch_checkpoint_loading'
]
