"""The benchmark's device-independent measures on hand-computable cases."""
import os.path as osp
import sys

import torch

REPO = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))

sys.path.insert(0, osp.join(REPO, 'tools', 'analysis'))
from step_measures import MemoryTracker, OpCounter  # noqa: E402


def test_memory_by_kind_of_a_linear_layer_with_a_frozen_one():
    torch.manual_seed(0)
    frozen = torch.nn.Linear(4, 4).requires_grad_(False)  # 80 bytes
    model = torch.nn.Sequential(frozen, torch.nn.Linear(4, 1024),
                                torch.nn.Linear(1024, 1024))
    trainable = [p for p in model.parameters() if p.requires_grad]
    opt = torch.optim.SGD(trainable, lr=0.1, momentum=0.9, foreach=False)
    x = torch.randn(64, 4)
    model(x).sum().backward()  # momentum buffers exist before tracking
    opt.step()
    opt.zero_grad()
    tracker = MemoryTracker()
    tracker.track_external(model, opt)
    with tracker:  # frozen parameters must not break the gradient hooks
        model(x).sum().backward()
        after_backward = {getattr(k, 'value', k): v for k, v in
                          tracker.get_tracker_snapshot('current')[
                              torch.device('cpu')].items()}
        opt.step()
        opt.zero_grad()
    peak = tracker.peak_by_kind()
    trainable_bytes = (4 * 1024 + 1024) * 4 + (1024 * 1024 + 1024) * 4
    assert trainable_bytes == 4218880
    params = trainable_bytes + (16 + 4) * 4  # and the frozen layer's
    assert peak['Parameter'] == after_backward['Parameter'] == params
    # one gradient per trainable parameter, none for the frozen layer
    assert after_backward['Gradient'] == trainable_bytes
    assert peak['Optstate'] == trainable_bytes  # one momentum buffer each
    # at the peak (inside backward) the weight gradient is still a
    # temporary: 1024 x 1024 + 1024 floats, plus the last activations
    assert peak['Temp'] >= (1024 * 1024 + 1024) * 4
    assert peak['Total'] == sum(v for k, v in peak.items() if k != 'Total')


def test_ops_and_syncs_are_counted_by_kind_and_phase():
    counter = OpCounter()
    y = torch.randn(8, 8)
    with counter:
        with counter.in_phase('a'):
            z = y * 2 + 1  # 2 ops, no sync
        with counter.in_phase('b'):
            _ = z[z > 0]  # gt + boolean index
            _ = torch.unique(z)
            _ = z.sum().item()  # sum + item
            _ = z.cpu()  # a device-to-host transfer
            _ = torch.nonzero(z > 0)
    summary = counter.summary()
    assert summary['ops']['a'] == 2
    assert 'a' not in summary['syncs']
    assert summary['syncs']['b'] == dict(bool_index=1, unique=1, item=1,
                                         d2h=1, nonzero=1)


def test_mmdet_focal_pytorch_path_equals_mmdets_cpu_path():
    """On CUDA without mmcv's CUDA ops the benchmark routes mmdet's
    FocalLoss (1-D targets) to its PyTorch path; on the CPU that path is
    what mmdet runs anyway."""
    from mmdet.models.losses import FocalLoss, focal_loss
    from train_benchmark.models import use_mmdet_pytorch_focal
    g = torch.Generator().manual_seed(0)
    pred = torch.randn(50, 1, generator=g)
    target = torch.randint(0, 2, (50,), generator=g)
    loss = FocalLoss(use_sigmoid=True, gamma=2.0, alpha=0.25)
    ref = loss(pred, target)
    original = focal_loss.sigmoid_focal_loss
    try:
        use_mmdet_pytorch_focal()
        got = focal_loss.sigmoid_focal_loss(pred, target, None, 2.0, 0.25,
                                            'mean', None)
    finally:
        focal_loss.sigmoid_focal_loss = original
    assert torch.allclose(got, ref, atol=1e-7)
