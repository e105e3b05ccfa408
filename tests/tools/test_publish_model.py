"""tools/misc/publish_model.py: weights and plain metadata only, sha256 in
the name, loadable with a bare torch.load(weights_only=True)."""
import hashlib
import os.path as osp
import sys

import numpy as np
import pytest
import torch

REPO = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
sys.path.insert(0, osp.join(REPO, 'tools', 'misc'))
from publish_model import main as publish_main  # noqa: E402


def test_published_checkpoint_loads_weights_only(tmp_path):
    from mmengine.logging import HistoryBuffer

    import mmmaskformer  # noqa: F401
    model = torch.nn.Linear(3, 2)
    optimizer = torch.optim.AdamW(model.parameters())
    model(torch.randn(4, 3)).sum().backward()
    optimizer.step()
    history = HistoryBuffer()
    history.update(1.5)
    src = tmp_path / 'iter_10.pth'
    torch.save(dict(
        state_dict=model.state_dict(), optimizer=optimizer.state_dict(),
        message_hub=dict(log_scalars={'train/loss': history}),
        meta=dict(iter=10, seed=np.int64(3), exp_name='run',
                  dataset_meta=dict(classes=('a', 'b'),
                                    palette=[[1, 2, 3], [4, 5, 6]]),
                  rng=np.random.get_state())), src)
    # the run's checkpoint itself needs the allow-list (HistoryBuffer, numpy)
    with pytest.raises(Exception):
        torch.load(src, weights_only=True)

    final = publish_main([str(src), str(tmp_path / 'out' / 'depth.pth')])
    digest = hashlib.sha256(open(final, 'rb').read()).hexdigest()
    assert final == str(tmp_path / 'out' / f'depth-{digest[:8]}.pth')
    published = torch.load(final, weights_only=True)  # no allow-list
    assert set(published) == {'state_dict', 'meta'}
    for k, v in model.state_dict().items():
        assert torch.equal(published['state_dict'][k], v)
    # plain metadata kept, numpy values dropped
    assert published['meta'] == dict(
        iter=10, exp_name='run',
        dataset_meta=dict(classes=('a', 'b'), palette=[[1, 2, 3],
                                                       [4, 5, 6]]))
    assert not list((tmp_path / 'out').glob('*.tmp'))


def test_not_a_checkpoint_is_named(tmp_path):
    from mmmaskformer.errors import CheckpointError
    src = tmp_path / 'x.pth'
    torch.save(dict(weights=[1, 2]), src)
    with pytest.raises(CheckpointError, match='no `state_dict`'):
        publish_main([str(src), str(tmp_path / 'y.pth')])
