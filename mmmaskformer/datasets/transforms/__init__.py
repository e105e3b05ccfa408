"""Loading transforms that check their input, and two that OpenMMLab lacks.

One concept per file: :mod:`.encoded_image` (what a file's bytes say before
decoding), :mod:`.file_checks` (read and decode, or name the problem),
:mod:`.label_maps` (checks of a decoded label), the three loaders, the crowd
filter and the label lists for the model's targets.
"""
from .add_label_lists import AddLabelLists
from .drop_crowd_instances import DropCrowdInstances
from .file_checks import DEFAULT_MAX_PIXELS
from .load_checked_annotations import LoadCheckedAnnotations
from .load_checked_image import LoadCheckedImage, apply_exif_orientation
from .load_checked_panoptic_annotations import LoadCheckedPanopticAnnotations

__all__ = [
    'AddLabelLists', 'DropCrowdInstances', 'DEFAULT_MAX_PIXELS',
    'LoadCheckedAnnotations', 'LoadCheckedImage', 'apply_exif_orientation',
    'LoadCheckedPanopticAnnotations'
]
