"""A non-finite loss is reported in one line (README: Reliability), and a run
stopped on purpose ends with that one line under mmseg's own
``tools/train.py`` too, not with a traceback."""
import os
import os.path as osp
import shutil
import sys

import mmseg
import pytest
import torch
from torch import nn

import mmmaskformer  # noqa: F401
from mmmaskformer.datasets import generate_synthetic_dataset
from mmmaskformer.engine import FiniteLossOptimWrapper, NonFiniteLossError
from mmmaskformer.engine import optim_wrapper as optim_wrapper_module
from mmmaskformer.engine.one_line_stop import OneLineStopHook
from mmmaskformer.errors import BadSampleError

MMSEG_TRAIN = osp.join(osp.dirname(mmseg.__file__), '.mim', 'tools',
                       'train.py')
EXPLODE = ['optim_wrapper.clip_grad=None', 'optim_wrapper.optimizer.lr=1e12',
           'optim_wrapper.optimizer.weight_decay=0.0']


class _Sample:
    metainfo = dict(img_path='data/img_dir/train/0007.png')


class _Model(nn.Module):

    def __init__(self):
        super().__init__()
        self.linear = nn.Linear(2, 1)

    def forward(self, x, data_samples=None):
        out = self.linear(x).sum()
        return dict(loss_a=out, loss_b=out * 0 + x.sum())


def _step(wrapper, model, x):
    with wrapper.optim_context(model):
        losses = model(x, data_samples=[_Sample()])
    wrapper.update_params(sum(losses.values()))


def test_nonfinite_loss_error_is_one_line():
    model = _Model()
    wrapper = FiniteLossOptimWrapper(torch.optim.SGD(model.parameters(),
                                                     lr=0.1))
    with pytest.raises(NonFiniteLossError) as info:
        _step(wrapper, model, torch.tensor([[1.0, float('nan')]]))
    msg = str(info.value)
    assert '\n' not in msg, msg
    assert msg.startswith('iteration ') and 'the loss is not finite' in msg
    assert 'rank 0: non-finite terms loss_a=nan, loss_b=nan;' in msg
    assert 'data/img_dir/train/0007.png' in msg
    assert "nonfinite_loss='skip'" in msg


def test_skip_warning_and_final_error_are_one_line(monkeypatch):
    logged = []
    monkeypatch.setattr(optim_wrapper_module, 'print_log',
                        lambda msg, **kwargs: logged.append(msg))
    model = _Model()
    wrapper = FiniteLossOptimWrapper(
        torch.optim.SGD(model.parameters(), lr=0.1), nonfinite_loss='skip',
        max_nonfinite_skips=2)
    bad = torch.tensor([[1.0, float('inf')]])
    _step(wrapper, model, bad)
    with pytest.raises(NonFiniteLossError) as info:
        _step(wrapper, model, bad)
    assert len(logged) == 2
    for line in logged:
        assert '\n' not in line and 'loss_b=nan;' in line, line
    assert 'skipping this optimizer step (1 in a row, at most 2)' in logged[0]
    assert '\n' not in str(info.value)
    assert str(info.value).startswith('2 consecutive steps had a non-finite '
                                      'loss; the last: iteration ')


def test_excepthook_prints_a_stop_as_one_line(capsys):
    seen = []
    hook = OneLineStopHook(lambda *exc: seen.append(exc))
    error = BadSampleError('data/x.png: cannot decode the image')
    hook(BadSampleError, error, None)
    assert capsys.readouterr().err.strip() == \
        'ERROR (BadSampleError): data/x.png: cannot decode the image'
    assert seen == []
    other = ValueError('something else')
    hook(ValueError, other, None)  # left to the previous hook
    assert seen == [(ValueError, other, None)]


# --------------------------------------------------------- as a user runs
@pytest.fixture(scope='module')
def data_root(tmp_path_factory):
    return generate_synthetic_dataset(
        str(tmp_path_factory.mktemp('synthetic')), num_train=8, num_val=2,
        progress=False)


def _only_line_after(out: str, marker: str) -> str:
    assert marker in out, out[-3000:]
    assert 'Traceback' not in out, out[-3000:]
    rest = out.rsplit(marker, 1)[1].strip()
    assert '\n' not in rest, rest  # the message ends the output, one line
    return rest


@pytest.mark.slow
def test_train_tool_prints_one_line_for_a_nonfinite_loss(
        data_root, tmp_path, run_tool, data_options, tiny_config):
    out = run_tool(['tools/train.py', tiny_config, '--work-dir',
                    str(tmp_path / 'w'), '--cfg-options'] +
                   data_options(data_root, 6) + EXPLODE, expect_rc=1)
    msg = _only_line_after(out, 'ERROR (NonFiniteLossError):')
    assert 'the loss is not finite' in msg and 'img_dir/train/' in msg


def _mmseg_config(tmp_path, tiny_config) -> str:
    path = tmp_path / 'downstream.py'
    path.write_text(f'_base_ = [{tiny_config!r}]\n')
    return str(path)


@pytest.mark.slow
def test_mmseg_train_tool_prints_one_line_for_a_nonfinite_loss(
        data_root, tmp_path, run_tool, data_options, tiny_config):
    out = run_tool([MMSEG_TRAIN, _mmseg_config(tmp_path, tiny_config),
                    '--work-dir', str(tmp_path / 'w'), '--cfg-options'] +
                   data_options(data_root, 6) + EXPLODE, expect_rc=1,
                   cwd=str(tmp_path))
    msg = _only_line_after(out, 'ERROR (NonFiniteLossError):')
    assert 'the loss is not finite' in msg


@pytest.mark.slow
def test_mmseg_train_tool_prints_one_line_for_a_bad_sample(
        data_root, tmp_path, run_tool, data_options, tiny_config):
    root = str(tmp_path / 'data')
    shutil.copytree(data_root, root)
    first = sorted(os.listdir(osp.join(root, 'ann_dir', 'train')))[0]
    name = first.replace('.png', '_broken.png')  # drawn second
    broken = osp.join(root, 'img_dir', 'train', name)
    with open(broken, 'w') as f:
        f.write('not an image\n' * 10)
    shutil.copy(osp.join(root, 'ann_dir', 'train', first),
                osp.join(root, 'ann_dir', 'train', name))
    out = run_tool([MMSEG_TRAIN, _mmseg_config(tmp_path, tiny_config),
                    '--work-dir', str(tmp_path / 'w'), '--cfg-options'] +
                   data_options(root, 6) +
                   ['train_cfg.bad_sample=error',
                    'train_dataloader.sampler.shuffle=False'],
                   expect_rc=1, cwd=str(tmp_path))
    msg = _only_line_after(out, 'ERROR (BadSampleError):')
    assert broken in msg


def test_mmseg_train_tool_is_where_the_tests_expect():
    assert osp.isfile(MMSEG_TRAIN) and sys.executable
