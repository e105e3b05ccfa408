"""What :class:`~mmmaskformer.apis.MaskFormerInferencer` does per task and
per kind of model, as two tables.

Everything that differs between ``'semantic'``, ``'panoptic'`` and
``'instance'`` is one row of :data:`TASKS`: the data sample field the model
writes, the ``test_cfg`` switches that make a multi-task model write it, how
the field becomes the returned result, and the files ``out_dir`` receives.
Everything that differs between kinds of model is one row of
:data:`MODEL_KINDS`: which tasks it predicts (the first is its default) and
which Hugging Face-named thresholds map to which of its ``test_cfg`` keys.
A new task or a new kind of model is one row; the inferencer has no
``if task == ...``.
"""
import copy
import json
from dataclasses import dataclass, field
from typing import Callable, Dict, Optional, Tuple

import mmcv
import numpy as np

from mmmaskformer.utils.rle import coco_rle


# ------------------------------------------------------------ results
def semantic_result(pred, return_rle: bool) -> dict:
    """``sem_seg`` (H, W) int64 from ``pred_sem_seg`` (mmseg keeps the map in
    ``data``, mmdet in ``sem_seg``)."""
    labels = pred.get('data', pred.get('sem_seg'))
    return dict(sem_seg=labels[0].cpu().numpy().astype(np.int64))


def panoptic_result(pred, return_rle: bool) -> dict:
    """The official id map (0 = void, ids from 1) and its segments_info."""
    return dict(panoptic_seg=pred.panoptic_seg[0].cpu().numpy(),
                segments_info=copy.deepcopy(pred.segments_info))


def instance_result(pred, return_rle: bool) -> dict:
    """``masks`` (k, H, W) bool, or COCO RLE; ``labels``; ``scores``."""
    masks = pred.masks.cpu().numpy().astype(bool)
    return dict(labels=pred.labels.cpu().numpy(),
                scores=pred.scores.cpu().numpy(),
                masks=[coco_rle(m) for m in masks] if return_rle else masks)


# ------------------------------------------------------------- writers
def write_semantic(result: dict, stem: str) -> None:
    """``<stem>.png``: the label map (8-bit, 16-bit when ids exceed 255)."""
    from mmmaskformer.evaluation.iou_metric import save_label_map
    save_label_map(result['sem_seg'], stem + '.png')


def write_panoptic(result: dict, stem: str) -> None:
    """``<stem>.png`` (COCO panoptic RGB ids) and ``<stem>.json``."""
    from panopticapi.utils import id2rgb
    mmcv.imwrite(id2rgb(result['panoptic_seg'])[..., ::-1], stem + '.png')
    with open(stem + '.json', 'w') as f:
        json.dump(dict(segments_info=result['segments_info']), f)


def write_instance(result: dict, stem: str) -> None:
    """``<stem>.json``: labels, scores and COCO RLE masks."""
    masks = result['masks']
    if len(masks) and not isinstance(masks[0], dict):
        masks = [coco_rle(m) for m in masks]
    with open(stem + '.json', 'w') as f:
        json.dump(dict(labels=result['labels'].tolist(),
                       scores=result['scores'].tolist(), masks=masks), f)


# -------------------------------------------------------------- tables
def always(pred) -> bool:
    return True


def has_segments(pred) -> bool:
    """mmdet's visualizer cannot draw an all-void panoptic map (nothing
    above the threshold)."""
    return bool(pred.segments_info)


@dataclass(frozen=True)
class Task:
    """One task: where its prediction lives and how it leaves the
    inferencer."""
    field: str  # the data sample field that holds the prediction
    switches: Dict[str, bool]  # test_cfg entries of a multi-task model
    result: Callable  # (field value, return_rle) -> result dict
    write: Callable  # (result dict, path stem) -> files
    drawable: Callable = always  # (field value) -> can the visualizer draw it


TASKS: Dict[str, Task] = {
    'semantic': Task('pred_sem_seg', dict(semantic_on=True, instance_on=False),
                     semantic_result, write_semantic),
    'panoptic': Task('pred_panoptic_seg',
                     dict(semantic_on=False, instance_on=False),
                     panoptic_result, write_panoptic, has_segments),
    'instance': Task('pred_instances', dict(semantic_on=False,
                                            instance_on=True),
                     instance_result, write_instance),
}


@dataclass(frozen=True)
class ModelKind:
    """One kind of model, known by the head attribute it has.

    ``thresholds`` maps the inferencer's (Hugging Face) argument names to the
    model's ``test_cfg`` keys; a kind with thresholds predicts what its
    ``test_cfg`` switches on (:attr:`Task.switches`), so each call runs on
    its own copy of that ``test_cfg``.
    """
    head: str
    tasks: Tuple[str, ...]  # the first is what the config was trained for
    thresholds: Dict[str, str] = field(default_factory=dict)

    @property
    def default_task(self) -> str:
        return self.tasks[0]


MODEL_KINDS = (
    ModelKind('panoptic_head', ('panoptic', 'instance', 'semantic'),
              dict(threshold='object_mask_threshold',
                   overlap_mask_area_threshold='overlap_threshold',
                   label_ids_to_fuse='label_ids_to_fuse',
                   mask_threshold='mask_threshold')),
    ModelKind('decode_head', ('semantic',)),
)


def model_kind(model) -> Optional[ModelKind]:
    """The first row of :data:`MODEL_KINDS` whose head ``model`` has."""
    for kind in MODEL_KINDS:
        if hasattr(model, kind.head):
            return kind
    return None
