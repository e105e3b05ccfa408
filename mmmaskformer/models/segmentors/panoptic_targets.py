"""mmdet panoptic data samples -> MaskFormer targets (the input edge)."""
from typing import Iterable, List, Sequence, Union

import torch

from mmmaskformer.structures import MaskTargets

from ..utils import labels_present


def panoptic_targets(batch_data_samples: Sequence,
                     things: Union[int, Iterable[int]], num_classes: int,
                     ignore_index: int = 255) -> List[MaskTargets]:
    """One mask per thing instance, one mask per stuff class present.

    ``things`` are the thing labels (an int ``n``: ``[0, n)``, mmdet's
    things-first order). Things come from ``gt_instances`` (``masks``,
    ``labels`` among ``things``), stuff from ``gt_sem_seg`` (the other
    labels below ``num_classes``). Crowd things (which mmdet leaves in
    ``gt_sem_seg`` with a thing label and out of ``gt_instances``) and VOID
    (``ignore_index``) pixels get no mask, so they are background for every
    query, as in the official release. A sample without ``gt_sem_seg``
    (instance data, e.g. mmdet's ``CocoDataset``) gives its things only, at
    the size of its (batch-padded) instance masks. The samples are not
    modified.

    Raises ``ValueError`` naming the image on labels outside their range.
    """
    things = set(range(things)) if isinstance(things, int) else \
        set(int(c) for c in things)
    targets = []
    for sample in batch_data_samples:
        name = sample.metainfo.get('img_path', '<unknown image>')
        instances = sample.gt_instances
        labels = instances.labels.long()
        masks = instances.masks
        sem = sample.gt_sem_seg.sem_seg[0] if 'gt_sem_seg' in sample \
            else None  # (H, W)
        if hasattr(masks, 'to_tensor'):  # BitmapMasks
            masks = masks.to_tensor(dtype=torch.bool, device=labels.device)
        masks = masks.bool()
        h, w = sem.shape if sem is not None else masks.shape[-2:]
        if len(masks) != len(labels):
            raise ValueError(f'{name}: {len(masks)} instance masks but '
                             f'{len(labels)} labels')
        # host lists packed by our PackDetInputs (no device sync); the
        # device tensors otherwise
        host_things = sample.metainfo.get('instance_labels')
        if host_things is None:
            host_things = labels.tolist()  # syncs
        if any(c not in things for c in host_things):
            raise ValueError(f'{name}: thing labels {host_things} are '
                             f'not all thing classes {sorted(things)}')
        if masks.numel() and masks.shape[-2:] != (h, w):
            # masks were padded to the batch, the semantic map too (or not)
            mh, mw = masks.shape[-2:]
            canvas = masks.new_zeros((len(masks), max(h, mh), max(w, mw)))
            canvas[:, :mh, :mw] = masks
            masks = canvas[:, :h, :w]
        stuff = [] if sem is None else [
            c for c in labels_present(sample, sem)
            if c != ignore_index and c not in things]
        bad = [c for c in stuff if c >= num_classes]
        if bad:
            raise ValueError(f'{name}: stuff labels {bad} are not '
                             f'below num_classes={num_classes} and not '
                             f'ignore_index={ignore_index}')
        classes = torch.tensor(stuff, dtype=torch.int64).to(
            masks.device, non_blocking=True)
        stuff_masks = masks.new_zeros((0, h, w)) if sem is None else \
            sem[None] == classes[:, None, None]  # (S, H, W)
        targets.append(
            MaskTargets(
                torch.cat([labels, classes.long()]),
                torch.cat([masks.reshape(-1, h, w), stuff_masks])))
    return targets
