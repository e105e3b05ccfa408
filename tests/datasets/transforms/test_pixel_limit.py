"""A huge image is refused from its header's dimensions, before decoding."""
import struct
import zlib

import cv2
import mmcv
import numpy as np
import pytest
from mmengine.registry import init_default_scope

import mmmaskformer  # noqa: F401
from mmmaskformer.datasets.transforms import DEFAULT_MAX_PIXELS
from mmmaskformer.registry import TRANSFORMS


def chunk(kind: bytes, data: bytes) -> bytes:
    return struct.pack('>I', len(data)) + kind + data + struct.pack(
        '>I', zlib.crc32(kind + data))


def blank_png(width: int, height: int) -> bytes:
    """A valid 1-bit grayscale PNG, all black, compressed row by row (a
    20000x20000 one is 50 MB raw and about 50 KB on disk)."""
    row = b'\x00' * (1 + (width + 7) // 8)  # filter byte + packed pixels
    z = zlib.compressobj(9)
    idat = b''.join(z.compress(row) for _ in range(height)) + z.flush()
    ihdr = struct.pack('>IIBBBBB', width, height, 1, 0, 0, 0, 0)
    return (b'\x89PNG\r\n\x1a\n' + chunk(b'IHDR', ihdr) +
            chunk(b'IDAT', idat) + chunk(b'IEND', b''))


@pytest.fixture(scope='module')
def huge_png(tmp_path_factory):
    path = tmp_path_factory.mktemp('huge') / 'huge.png'
    path.write_bytes(blank_png(20000, 20000))
    return str(path)


@pytest.fixture
def decodes(monkeypatch):
    """One entry per call of mmcv.imfrombytes (which still decodes)."""
    calls = []
    original = mmcv.imfrombytes

    def spy(content, *args, **kwargs):
        calls.append(len(content))
        return original(content, *args, **kwargs)

    monkeypatch.setattr(mmcv, 'imfrombytes', spy)
    return calls


def loader(kind, **kwargs):
    init_default_scope('mmmaskformer')
    return TRANSFORMS.build(dict(type=f'mmmaskformer.{kind}', **kwargs))


def results_for(kind, path):
    if kind == 'LoadCheckedImage':
        return dict(img_path=path)
    if kind == 'LoadCheckedAnnotations':
        return dict(seg_map_path=path, seg_fields=[], reduce_zero_label=False)
    return dict(seg_map_path=path, segments_info=[], instances=[],
                ori_shape=(20000, 20000))


KINDS = ['LoadCheckedImage', 'LoadCheckedAnnotations',
         'LoadCheckedPanopticAnnotations']


@pytest.mark.parametrize('kind', KINDS)
def test_20000x20000_png_is_refused_before_decoding(kind, huge_png, decodes):
    with pytest.raises(ValueError) as info:
        loader(kind)(results_for(kind, huge_png))
    msg = str(info.value)
    assert 'huge.png' in msg and '20000x20000' in msg, msg
    assert f'limit of {DEFAULT_MAX_PIXELS}' in msg and 'max_pixels' in msg
    assert decodes == []  # nothing was decoded


def test_default_limit_is_documented_value():
    assert DEFAULT_MAX_PIXELS == 100_000_000
    for kind in KINDS:
        assert loader(kind).max_pixels == DEFAULT_MAX_PIXELS


@pytest.mark.parametrize('kind', KINDS[:2])
def test_limit_is_inclusive_and_overridable(kind, tmp_path, decodes):
    path = str(tmp_path / 'small.png')
    cv2.imwrite(path, np.zeros((32, 48), np.uint8))
    loader(kind, max_pixels=32 * 48)(results_for(kind, path))
    assert len(decodes) == 1
    with pytest.raises(ValueError, match=r'small.png: 48x32 pixels \(1536\) '
                                         r'exceed the limit of 1535'):
        loader(kind, max_pixels=32 * 48 - 1)(results_for(kind, path))
    assert len(decodes) == 1
    loader(kind, max_pixels=None)(results_for(kind, path))  # no limit
    assert len(decodes) == 2
