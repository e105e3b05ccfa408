"""Checkpoint loading under torch >= 2.6.

torch >= 2.6 loads with ``weights_only=True`` by default, and mmengine 0.10.7
never passes ``weights_only``, so resuming a run (its checkpoint holds the
message hub, numpy values ...) fails. We re-register mmengine's loader for
local files so that it passes ``weights_only=False``: mmengine checkpoints
are full pickles, written by the user's own runs. Remote schemes are
untouched.
"""
import os.path as osp

import torch
from mmengine.runner.checkpoint import CheckpointLoader


def load_local_checkpoint(filename: str, map_location=None):
    """mmengine's ``load_from_local`` with ``weights_only=False``."""
    filename = osp.expanduser(filename)
    if not osp.isfile(filename):
        raise FileNotFoundError(f'{filename} can not be found.')
    return torch.load(filename, map_location=map_location,
                      weights_only=False)


def patch_checkpoint_loading() -> None:
    CheckpointLoader.register_scheme(prefixes='', force=True)(
        load_local_checkpoint)
