"""A --cfg-options key that nothing would read is an error naming it."""
import pytest
from mmengine.config import Config

from mmmaskformer.errors import ConfigError
from mmmaskformer.utils.cfg_options import check_cfg_options

CFG = Config(dict(model=dict(backbone=dict(model_name='resnet18'),
                             decode_head=dict(num_classes=3)),
                  train_cfg=dict(max_iters=10)))


def test_known_roots_and_runner_arguments_pass():
    check_cfg_options(CFG, ['model.backbone.model_name',
                            'train_cfg.max_iters', 'randomness.seed',
                            'load_from', 'work_dir'])


def test_a_misrooted_key_names_the_key_it_meant():
    with pytest.raises(ConfigError) as info:
        check_cfg_options(CFG, ['backbone.model_name', 'train_cfg.max_iters'])
    msg = str(info.value)
    assert msg == ("--cfg-options backbone.model_name: the config has no key "
                   "'backbone' and the Runner takes no argument 'backbone', "
                   "so nothing would read it; did you mean "
                   "model.backbone.model_name?")


def test_a_misspelt_root_is_an_error_without_a_guess():
    with pytest.raises(ConfigError, match=r"^--cfg-options trian_cfg.max_iters"
                       r": the config has no key 'trian_cfg'.*read it$"):
        check_cfg_options(CFG, ['trian_cfg.max_iters'])


@pytest.mark.slow
def test_train_tool_stops_on_the_readme_wording_of_a_key(tmp_path, run_tool,
                                                         stopped_cleanly,
                                                         tiny_config):
    out = run_tool(['tools/train.py', tiny_config, '--work-dir',
                    str(tmp_path), '--cfg-options',
                    'backbone.depth=34'], expect_rc=1)
    msg = stopped_cleanly(out, 'ConfigError')
    assert 'did you mean model.backbone.depth?' in msg
    assert not list(tmp_path.glob('*.pth'))
