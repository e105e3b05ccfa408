"""Complete files load (also with bytes after their end), truncated ones are
named, and the header's dimensions are read without decoding."""
import io

import cv2
import numpy as np
import pytest
from PIL import Image

from mmmaskformer.datasets import LoadCheckedImage
from mmmaskformer.datasets.transforms.encoded_image import read_header


def image(h=24, w=40, seed=0):
    return np.random.default_rng(seed).integers(0, 256, (h, w, 3), np.uint8)


def jpeg(arr, **save_args) -> bytes:
    buf = io.BytesIO()
    Image.fromarray(arr).save(buf, 'JPEG', **save_args)
    return buf.getvalue()


def png(arr) -> bytes:
    ok, buf = cv2.imencode('.png', arr)
    assert ok
    return buf.tobytes()


def with_thumbnail(arr) -> bytes:
    """A JPEG whose EXIF block holds a thumbnail JPEG with its own
    end-of-image marker (as cameras write them)."""
    exif = Image.Exif()
    exif[0x010F] = 'camera'
    thumb = jpeg(arr[:8, :8])
    # an APP1 segment with a thumbnail inside, right after SOI
    app1 = b'Exif\x00\x00' + exif.tobytes()[6:] + thumb
    data = jpeg(arr)
    return data[:2] + b'\xff\xe1' + (len(app1) + 2).to_bytes(2, 'big') + \
        app1 + data[2:]


def load(tmp_path, data, name='img.jpg'):
    path = tmp_path / name
    path.write_bytes(data)
    return LoadCheckedImage()(dict(img_path=str(path)))['img']


@pytest.mark.parametrize('trailer', [b'\x00' * 7, b'garbage after the end',
                                     b'\xff\xd8\xff\xe0 a second SOI'])
def test_jpeg_with_bytes_after_its_end_marker_loads(tmp_path, trailer):
    data = jpeg(image())
    expected = cv2.imdecode(np.frombuffer(data, np.uint8), cv2.IMREAD_COLOR)
    assert np.array_equal(load(tmp_path, data + trailer), expected)


def test_png_with_bytes_after_iend_loads(tmp_path):
    data = png(image())
    out = load(tmp_path, data + b'trailing bytes, e.g. a signature',
               name='img.png')
    assert np.array_equal(out, image())


@pytest.mark.parametrize('make', [
    lambda: jpeg(image()),
    lambda: jpeg(image(), progressive=True),
    lambda: with_thumbnail(image()),
], ids=['baseline', 'progressive', 'exif-thumbnail'])
@pytest.mark.parametrize('keep', [0.3, 0.6, 0.95])
def test_truncated_jpeg_is_named(tmp_path, make, keep):
    data = make()
    assert read_header(data).problem is None
    cut = data[:int(len(data) * keep)]
    with pytest.raises(ValueError, match=r'img.jpg: truncated JPEG'):
        load(tmp_path, cut)


@pytest.mark.parametrize('keep', [0.2, 0.5, 0.99])
def test_truncated_png_is_named(tmp_path, keep):
    data = png(image())
    with pytest.raises(ValueError, match=r'img.png: truncated PNG'):
        load(tmp_path, data[:int(len(data) * keep)], name='img.png')


@pytest.mark.parametrize('encode', [
    png, jpeg, lambda a: jpeg(a, progressive=True),
    lambda a: cv2.imencode('.bmp', a)[1].tobytes(),
    lambda a: cv2.imencode('.webp', a)[1].tobytes(),
], ids=['png', 'jpeg', 'progressive', 'bmp', 'webp'])
def test_header_gives_width_and_height(encode):
    header = read_header(encode(image(h=24, w=40)))
    assert (header.width, header.height) == (40, 24)
    assert header.problem is None
