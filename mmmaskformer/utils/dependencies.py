"""Fail at import, with an install hint, when the stack is incomplete."""
import importlib
from typing import List, Tuple

INSTALL_HINT = ('Install the pinned stack with `bash tools/install.sh` '
                '(see docs/install.md).')

# (import name, pip requirement, minimum, maximum exclusive or None)
REQUIRED: List[Tuple[str, str, str, str]] = [
    ('torch', 'torch>=2.0', '2.0', None),
    ('mmengine', 'mmengine==0.10.7', '0.10.0', '0.11.0'),
    ('mmcv', 'mmcv==2.1.0 (built with MMCV_WITH_OPS=1)', '2.1.0', '2.2.0'),
    ('mmseg', 'mmsegmentation==1.2.2', '1.2.0', '1.3.0'),
    ('mmdet', 'mmdet==3.3.0', '3.3.0', '3.4.0'),
    ('scipy', 'scipy', '1.0', None),
    ('timm', 'timm==1.0.31', '0.9', None),
    ('pycocotools', 'pycocotools', '0', None),
    ('panopticapi', 'panopticapi-lite', '0', None),
]


def _version_tuple(v: str):
    out = []
    for part in v.split('+')[0].split('.'):
        digits = ''.join(ch for ch in part if ch.isdigit())
        out.append(int(digits) if digits else 0)
    return tuple(out)


def check_dependencies() -> None:
    """Raise ``ImportError`` naming what to install if anything is missing."""
    problems = []
    for module, requirement, low, high in REQUIRED:
        try:
            mod = importlib.import_module(module)
        except Exception as e:  # noqa: BLE001 - report any import failure
            problems.append(f'- {module}: cannot be imported ({e!r}); '
                            f'install {requirement}')
            continue
        version = getattr(mod, '__version__', None)
        if version is None:
            continue
        v = _version_tuple(version)
        if v < _version_tuple(low) or (high and v >= _version_tuple(high)):
            problems.append(f'- {module} {version} is installed; '
                            f'mmmaskformer needs {requirement}')
    if not problems:
        try:
            importlib.import_module('mmcv._ext')
        except Exception as e:  # noqa: BLE001
            problems.append(
                f'- mmcv has no compiled ops (mmcv._ext: {e!r}); mmseg.models'
                ' and mmdet.models need them. Rebuild mmcv 2.1.0 with '
                'MMCV_WITH_OPS=1 (mmcv-lite is not enough)')
    if problems:
        raise ImportError('mmmaskformer cannot start:\n' +
                          '\n'.join(problems) + '\n' + INSTALL_HINT)
