"""Name the image that cannot join its batch, before ``torch.stack`` fails.

mmseg's ``SegDataPreProcessor`` with ``size=(h, w)`` pads every training
image of a batch up to ``(h, w)`` and stacks them. An image larger than
that in either dimension (a config without a crop, and one image of another
size in the dataset) keeps its size, and ``torch.stack`` raises "stack
expects each tensor to be equal size", naming no file. The training loop
calls :func:`check_batch_sizes` first, which raises a one-line
:class:`~mmmaskformer.errors.BadSampleError` naming the file, its size and
the preprocessor's. Batches the preprocessor can stack (also when every
image is larger than ``size`` by the same amount) pass unchanged.
"""
from collections import Counter
from typing import Optional

from mmmaskformer.errors import BadSampleError, printable


def batch_size_problem(data_batch, data_preprocessor) -> Optional[str]:
    """Why the preprocessor cannot stack ``data_batch``, or None."""
    size = getattr(data_preprocessor, 'size', None)
    inputs = data_batch.get('inputs') if isinstance(data_batch, dict) \
        else None
    if size is None or not isinstance(inputs, (list, tuple)) or \
            len(inputs) < 2:
        return None
    padded = [(max(int(t.shape[-2]), size[-2]), max(int(t.shape[-1]),
                                                    size[-1]))
              for t in inputs]
    if len(set(padded)) == 1:
        return None
    target = tuple(size[-2:]) if tuple(size[-2:]) in padded else \
        Counter(padded).most_common(1)[0][0]
    samples = data_batch.get('data_samples') or [None] * len(inputs)
    odd = [i for i, p in enumerate(padded) if p != target]
    names = []
    for i in odd[:3]:
        sample = samples[i]
        path = sample.metainfo.get('img_path') if hasattr(
            sample, 'metainfo') else None
        names.append(f'{printable(path or f"sample {i} of the batch")} '
                     f'({inputs[i].shape[-2]}x{inputs[i].shape[-1]})')
    return (f'{", ".join(names)}: larger than the data preprocessor\'s '
            f'size {size[-2]}x{size[-1]}, to which the other images of the '
            'batch are padded, so the batch cannot be stacked; crop or '
            'resize in the pipeline (e.g. RandomCrop), or change '
            'data_preprocessor.size')


def check_batch_sizes(data_batch, model) -> None:
    """Raise :class:`BadSampleError` if ``model``'s data preprocessor
    cannot stack ``data_batch`` (module docstring)."""
    preprocessor = getattr(getattr(model, 'module', model),
                           'data_preprocessor', None)
    problem = batch_size_problem(data_batch, preprocessor)
    if problem:
        raise BadSampleError(f'bad sample {problem}')
