"""Our fused Dropout: the distribution of nn.Dropout in one op."""
import os.path as osp
import sys

import torch

from mmmaskformer.layers.transformer import Dropout

sys.path.insert(0, osp.join(osp.dirname(__file__), '..', '..', 'tools',
                            'analysis'))
from step_measures import OpCounter  # noqa: E402


def test_dropout_keeps_with_probability_and_scales():
    torch.manual_seed(0)
    drop = Dropout(0.25)
    x = torch.rand(400, 500) + 1  # no zeros of its own
    x.requires_grad_()
    counter = OpCounter()
    with counter:
        y = drop(x)
        counter.phase = 'backward'
        (y * 3).sum().backward()
    kept = y != 0
    # every kept value is x / (1 - p), every other one exactly 0
    assert torch.allclose(y[kept], (x / 0.75)[kept], rtol=1e-6, atol=0)
    # 200k Bernoulli(0.75) draws: 0.75 +- 5 standard deviations (0.005)
    assert abs(kept.float().mean().item() - 0.75) < 0.005
    assert torch.allclose(x.grad, kept.float() * 3 / 0.75, rtol=1e-6, atol=0)
    # one op forward (nn.Dropout: four on the CPU)
    assert counter.ops['other'] == 1
    assert counter.names['other'] == {'native_dropout': 1}
    drop.eval()
    assert drop(x) is x
    assert Dropout(0.0).train()(x) is x
