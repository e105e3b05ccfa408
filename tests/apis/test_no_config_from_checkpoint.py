"""A config stored in a checkpoint never runs (issue 17, item 3).

mmengine's ``BaseInferencer`` builds the model from the checkpoint's
``message_hub.runtime_info.cfg`` or ``meta.cfg`` when it is given no config,
through ``Config.fromstring``, which executes the string as Python.
``MaskFormerInferencer`` refuses every way of giving it no config, before the
checkpoint is read. The crafted checkpoint below is a valid weights-only
file whose config would create a file when run.
"""
import pytest
import torch
from mmengine.config import Config

from mmmaskformer.apis import MaskFormerInferencer


@pytest.fixture
def crafted(tmp_path):
    """(checkpoint whose stored config writes ``marker``, marker path)."""
    marker = tmp_path / 'config_from_the_checkpoint_ran'
    code = (f'open({str(marker)!r}, "w").write("ran")\n'
            "model = dict(type='EncoderDecoder')\n")
    path = str(tmp_path / 'crafted.pth')
    torch.save(dict(state_dict={}, meta=dict(cfg=code),
                    message_hub=dict(runtime_info=dict(cfg=code))), path)
    # the crafted config does run when executed: the test can fail
    Config.fromstring(code, file_format='.py')
    assert marker.exists()
    marker.unlink()
    return path, marker


def test_model_none_is_refused_and_the_stored_config_never_runs(crafted):
    ckpt, marker = crafted
    with pytest.raises(ValueError) as error:
        MaskFormerInferencer(None, weights=ckpt, device='cpu')
    message = str(error.value)
    assert '\n' not in message
    assert 'model=None' in message and ckpt in message
    assert 'pass the config file' in message
    assert 'config files are code' in message
    assert 'checkpoints are data' in message
    assert not marker.exists()
    # refused before the checkpoint is read: also for a file not there
    with pytest.raises(ValueError, match='pass the config file'):
        MaskFormerInferencer(None, weights=ckpt + '.missing', device='cpu')


@pytest.mark.parametrize('empty', ['dict', 'Config', 'file'])
def test_an_empty_config_is_refused_too(crafted, tmp_path, empty):
    """An empty config would also make mmengine read the checkpoint's."""
    ckpt, marker = crafted
    model = dict(dict={}, Config=Config())[empty] if empty != 'file' \
        else str(tmp_path / 'empty.py')
    if empty == 'file':
        (tmp_path / 'empty.py').write_text('# nothing here\n')
    with pytest.raises(ValueError, match='no `model` field') as error:
        MaskFormerInferencer(model, weights=ckpt, device='cpu')
    assert '\n' not in str(error.value)
    if empty == 'file':
        assert str(error.value).startswith(str(tmp_path / 'empty.py'))
    assert not marker.exists()
