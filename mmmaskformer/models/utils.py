"""Helpers shared by the heads and segmentors."""
import torch


def labels_present(sample, label_map: torch.Tensor) -> list:
    """The label values in ``label_map`` (H, W) of a data sample, as a host
    list: the ``seg_labels`` our ``PackSegInputs``/``PackDetInputs`` packed
    on the CPU (no device sync), else ``torch.unique`` on the device."""
    present = sample.metainfo.get('seg_labels')
    if present is None:
        present = torch.unique(label_map).tolist()  # syncs
    return present
