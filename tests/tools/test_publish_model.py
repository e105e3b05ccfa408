"""tools/misc/publish_model.py: weights and plain metadata only (no run
state), sha256 in the name, loadable with a bare
``torch.load(weights_only=True)``; run as a user runs it (fresh process)."""
import hashlib
import os.path as osp
import re

import numpy as np
import pytest
import torch

#: what mmengine's Runner.save_checkpoint writes into ``meta``
MMENGINE_META = {'epoch', 'iter', 'cfg', 'seed', 'experiment_name', 'time',
                 'mmengine_version', 'dataset_meta'}


def published_path(out: str) -> str:
    return re.search(r'^(\S+\.pth) \(', out, re.M).group(1)


@pytest.mark.slow
def test_published_checkpoint_loads_weights_only(tmp_path, run_tool):
    from mmengine.logging import HistoryBuffer

    from mmmaskformer.engine.rng import capture_rng_state
    model = torch.nn.Linear(3, 2)
    optimizer = torch.optim.AdamW(model.parameters())
    model(torch.randn(4, 3)).sum().backward()
    optimizer.step()
    history = HistoryBuffer()
    history.update(1.5)
    src = tmp_path / 'iter_10.pth'
    resume_state = dict(rng_states=[capture_rng_state()], samples_seen=20,
                        bad_samples=1)
    torch.save(dict(
        state_dict=model.state_dict(), optimizer=optimizer.state_dict(),
        message_hub=dict(log_scalars={'train/loss': history}),
        meta=dict(iter=10, seed=np.int64(3), exp_name='run',
                  dataset_meta=dict(classes=('a', 'b'),
                                    palette=[[1, 2, 3], [4, 5, 6]]),
                  resume_state=resume_state,
                  rng=np.random.get_state())), src)
    # the run's checkpoint itself needs the allow-list (HistoryBuffer, numpy)
    with pytest.raises(Exception):
        torch.load(src, weights_only=True)

    out = run_tool(['tools/misc/publish_model.py', str(src),
                    str(tmp_path / 'out' / 'depth.pth')])
    final = published_path(out)
    digest = hashlib.sha256(open(final, 'rb').read()).hexdigest()
    assert final == str(tmp_path / 'out' / f'depth-{digest[:8]}.pth')
    assert digest in out
    published = torch.load(final, weights_only=True)  # no allow-list
    assert set(published) == {'state_dict', 'meta'}
    for k, v in model.state_dict().items():
        assert torch.equal(published['state_dict'][k], v)
    # plain metadata kept; the resume state (whose numbers, strings and
    # None are plain too) and numpy values dropped, each named
    assert published['meta'] == dict(
        iter=10, exp_name='run',
        dataset_meta=dict(classes=('a', 'b'), palette=[[1, 2, 3],
                                                       [4, 5, 6]]))
    assert "dropped meta['seed'], meta['resume_state'], meta['rng']" in out
    assert not list((tmp_path / 'out').glob('*.tmp'))


@pytest.mark.slow
def test_a_run_checkpoint_publishes_without_run_state(
        tmp_path, tiny_config, data_options, run_tool):
    """Whatever the engine stores for ``--resume``: only mmengine's own
    descriptive metadata is left."""
    from mmmaskformer.datasets import generate_synthetic_dataset
    root = generate_synthetic_dataset(str(tmp_path / 'data'), num_train=2,
                                      num_val=1, progress=False)
    work = str(tmp_path / 'work')
    run_tool(['tools/train.py', tiny_config, '--work-dir', work,
              '--cfg-options'] + data_options(root, 1, ckpt_interval=1))
    out = run_tool(['tools/misc/publish_model.py',
                    osp.join(work, 'iter_1.pth'),
                    str(tmp_path / 'tiny.pth')])
    published = torch.load(published_path(out), weights_only=True)
    assert set(published) == {'state_dict', 'meta'}
    assert set(published['meta']) <= MMENGINE_META, sorted(published['meta'])
    assert published['meta']['iter'] == 1


@pytest.mark.slow
def test_not_a_checkpoint_is_named(tmp_path, run_tool, stopped_cleanly):
    src = tmp_path / 'x.pth'
    torch.save(dict(weights=[1, 2]), src)
    out = run_tool(['tools/misc/publish_model.py', str(src),
                    str(tmp_path / 'y.pth')], expect_rc=1)
    assert f'{src}: no `state_dict`' in stopped_cleanly(out,
                                                          'CheckpointError')
