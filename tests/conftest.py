import os
import os.path as osp

import pytest

REPO = osp.dirname(osp.dirname(osp.abspath(__file__)))


def shared_dir() -> str:
    """The project's shared material (papers, golden data, CamVid)."""
    return os.environ.get('MMMASKFORMER_SHARED', osp.join(REPO, '..', 'shared'))


@pytest.fixture(scope='session')
def shared():
    path = shared_dir()
    if not osp.isdir(path):
        if os.environ.get('MMMASKFORMER_REQUIRE_SHARED'):
            pytest.fail(f'shared material not found at {path}')
        pytest.skip(f'shared material not found at {path} '
                    '(set MMMASKFORMER_SHARED)')
    return path
