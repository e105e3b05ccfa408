"""The batch-size check names the images the data preprocessor cannot
stack, exactly when it cannot stack them."""
import itertools

import pytest
import torch
from mmengine.structures import PixelData
from mmseg.models import SegDataPreProcessor
from mmseg.structures import SegDataSample

from mmmaskformer.engine.batch_sizes import batch_size_problem


def batch(*sizes):
    samples = []
    for i, (h, w) in enumerate(sizes):
        sample = SegDataSample(metainfo=dict(img_path=f'img{i}.png'))
        sample.gt_sem_seg = PixelData(data=torch.zeros(1, h, w))
        samples.append(sample)
    return dict(inputs=[torch.zeros(3, h, w) for h, w in sizes],
                data_samples=samples)


def stacks(preprocessor, data) -> bool:
    try:
        preprocessor(dict(inputs=list(data['inputs']),
                          data_samples=list(data['data_samples'])), True)
        return True
    except RuntimeError as e:
        assert 'stack expects each tensor to be equal size' in str(e)
        return False


SIZES = [(64, 64), (48, 64), (64, 80), (80, 64), (80, 80), (32, 32)]


@pytest.mark.parametrize('sizes', list(itertools.product(SIZES, repeat=2)) +
                         [((80, 80), (80, 80), (64, 64)),
                          ((80, 80), (80, 80), (80, 80))])
def test_a_problem_exactly_when_the_preprocessor_cannot_stack(sizes):
    preprocessor = SegDataPreProcessor(size=(64, 64))
    data = batch(*sizes)
    problem = batch_size_problem(data, preprocessor)
    assert (problem is None) == stacks(preprocessor, batch(*sizes)), \
        (sizes, problem)


def test_the_larger_image_is_named_with_its_size():
    problem = batch_size_problem(batch((64, 64), (48, 60), (80, 72)),
                                 SegDataPreProcessor(size=(64, 64)))
    assert problem.startswith("img2.png (80x72): larger than the data "
                              "preprocessor's size 64x64"), problem
    assert 'img0.png' not in problem and 'img1.png' not in problem


def test_preprocessors_that_pad_to_the_batch_are_not_checked():
    data = batch((64, 64), (80, 96))
    assert batch_size_problem(
        data, SegDataPreProcessor(size_divisor=32)) is None
    assert batch_size_problem(data, None) is None
    assert batch_size_problem(batch((80, 80)),
                              SegDataPreProcessor(size=(64, 64))) is None
