"""Missing dependencies and wrong config keys fail loudly, naming the cause."""
import importlib

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
