"""Missing dependencies and wrong config keys fail loudly, naming the cause."""
import importlib
import subprocess
import sys

import pytest
from mmengine.registry import init_default_scope

import mmmaskformer  # noqa: F401
from mmmaskformer.registry import MODELS
from mmmaskformer.utils import dependencies


def test_missing_dependency_names_what_to_install(monkeypatch):
    real = importlib.import_module

    def fake(name, *a, **k):
        if name == 'panopticapi':
            raise ModuleNotFoundError("No module named 'panopticapi'")
        return real(name, *a, **k)

    monkeypatch.setattr(dependencies.importlib, 'import_module', fake)
    with pytest.raises(ImportError) as e:
        dependencies.check_dependencies()
    msg = str(e.value)
    assert 'panopticapi' in msg and 'panopticapi-lite' in msg
    assert 'tools/install.sh' in msg


@pytest.mark.slow
def test_missing_timm_in_a_fresh_process_gives_the_dependency_list():
    """timm is imported by the backbones package: without it, importing
    mmmaskformer stops on the dependency list, not on timm's own error."""
    proc = subprocess.run(
        [sys.executable, '-c',
         'import sys; sys.modules["timm"] = None; import mmmaskformer'],
        capture_output=True, text=True, timeout=300)
    assert proc.returncode == 1
    last = proc.stderr.strip().splitlines()
    start = next(i for i, line in enumerate(last)
                 if line.startswith('ImportError: mmmaskformer cannot start'))
    assert any(line.startswith('- timm: cannot be imported')
               and 'timm==1.0.31' in line for line in last[start:]), \
        proc.stderr[-2000:]


def test_wrong_version_is_reported(monkeypatch):
    import mmseg
    monkeypatch.setattr(mmseg, '__version__', '1.0.0')
    with pytest.raises(ImportError, match=r'mmseg 1\.0\.0 is installed'):
        dependencies.check_dependencies()


def test_unknown_config_key_names_class_and_key():
    init_default_scope('mmmaskformer')
    with pytest.raises(TypeError, match='num_clases'):
        MODELS.build(dict(type='MaskFormerHead', num_clases=3,
                          in_channels=[8, 8, 8, 8], pixel_decoder={},
                          transformer_decoder={}))
    with pytest.raises(KeyError, match='FPNPixelDecodr'):
        MODELS.build(dict(
            type='MaskFormerHead', num_classes=3, in_channels=[8, 8, 8, 8],
            pixel_decoder=dict(type='FPNPixelDecodr'),
            transformer_decoder=dict(type='DETRTransformerDecoder')))
