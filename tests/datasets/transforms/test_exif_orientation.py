"""EXIF orientation follows mmcv's (and detectron2's) convention: the image
is loaded as displayed, the label as stored; a rotation is logged."""
import io
import logging

import cv2
import mmcv
import numpy as np
import pytest
from mmengine.logging import MMLogger
from PIL import Image, ImageOps

from mmmaskformer.datasets import LoadCheckedAnnotations, LoadCheckedImage
from mmmaskformer.datasets.transforms import apply_exif_orientation


def stored_pixels(h, w):
    return np.random.default_rng(h * w).integers(0, 256, (h, w, 3), np.uint8)


def exif_jpeg(arr, orientation) -> bytes:
    exif = Image.Exif()
    exif[0x0112] = orientation
    buf = io.BytesIO()
    Image.fromarray(arr).save(buf, 'JPEG', quality=95, exif=exif.tobytes())
    return buf.getvalue()


@pytest.fixture
def warnings_logged():
    records = []
    handler = logging.Handler(level=logging.WARNING)
    handler.emit = lambda record: records.append(record.getMessage())
    logger = MMLogger.get_current_instance()
    logger.addHandler(handler)
    yield records
    logger.removeHandler(handler)


@pytest.mark.parametrize('fmt', ['jpeg', 'png'])
@pytest.mark.parametrize('backend', ['cv2', 'pillow'])
@pytest.mark.parametrize('orientation', range(1, 9))
def test_every_orientation_matches_mmcv_color_decoding(tmp_path, fmt, backend,
                                                       orientation):
    """mmcv's own decoding with flag 'color' is the reference; the image is
    not square, so that a transpose cannot pass for a rotation."""
    encode = exif_jpeg if fmt == 'jpeg' else png_with_exif
    data = encode(stored_pixels(6, 10), orientation)
    path = tmp_path / f'img.{fmt}'
    path.write_bytes(data)
    out = LoadCheckedImage(imdecode_backend=backend)(
        dict(img_path=str(path)))
    expected = mmcv.imfrombytes(data, flag='color', backend=backend)
    assert out['img'].shape == expected.shape
    assert np.array_equal(out['img'], expected)
    assert out['ori_shape'] == expected.shape[:2]


def png_with_exif(arr, orientation) -> bytes:
    """Lossless, so that Pillow's own transpose is an exact reference."""
    exif = Image.Exif()
    exif[0x0112] = orientation
    buf = io.BytesIO()
    Image.fromarray(arr).save(buf, 'PNG', exif=exif.tobytes())
    return buf.getvalue()


@pytest.mark.parametrize('orientation', range(1, 9))
def test_apply_exif_orientation_is_pillows_exif_transpose(orientation):
    arr = stored_pixels(3, 5)
    reference = ImageOps.exif_transpose(
        Image.open(io.BytesIO(png_with_exif(arr, orientation))))
    assert np.array_equal(apply_exif_orientation(arr, orientation),
                          np.asarray(reference))


def test_square_rotated_jpeg_loads_as_displayed_and_is_logged(
        tmp_path, warnings_logged):
    stored = stored_pixels(16, 16)
    path = tmp_path / 'square.jpg'
    path.write_bytes(exif_jpeg(stored, 6))  # 6: rotate 90 degrees clockwise
    as_stored = cv2.imdecode(np.frombuffer(path.read_bytes(), np.uint8),
                             cv2.IMREAD_COLOR | cv2.IMREAD_IGNORE_ORIENTATION)
    load = LoadCheckedImage()
    out = load(dict(img_path=str(path)))
    assert np.array_equal(out['img'], np.rot90(as_stored, k=-1))
    assert not np.array_equal(out['img'], as_stored)
    assert len(warnings_logged) == 1
    assert 'square.jpg: EXIF orientation 6' in warnings_logged[0]
    assert 'color_ignore_orientation' in warnings_logged[0]
    load(dict(img_path=str(path)))  # once per file and process
    assert len(warnings_logged) == 1


def test_ignore_orientation_loads_the_stored_pixels(tmp_path,
                                                    warnings_logged):
    path = tmp_path / 'square.jpg'
    path.write_bytes(exif_jpeg(stored_pixels(16, 16), 6))
    as_stored = cv2.imdecode(np.frombuffer(path.read_bytes(), np.uint8),
                             cv2.IMREAD_COLOR | cv2.IMREAD_IGNORE_ORIENTATION)
    out = LoadCheckedImage(color_type='color_ignore_orientation')(
        dict(img_path=str(path)))
    assert np.array_equal(out['img'], as_stored)
    assert warnings_logged == []


def test_label_of_the_stored_size_names_the_rotation(tmp_path):
    img_path, ann_path = tmp_path / 'wide.jpg', tmp_path / 'wide.png'
    img_path.write_bytes(exif_jpeg(stored_pixels(8, 12), 8))
    cv2.imwrite(str(ann_path), np.zeros((8, 12), np.uint8))  # as stored
    results = LoadCheckedImage()(dict(img_path=str(img_path)))
    assert results['img'].shape[:2] == (12, 8)
    results.update(seg_map_path=str(ann_path), seg_fields=[],
                   reduce_zero_label=False)
    with pytest.raises(ValueError, match=r'wide.png: label size 8x12 differs '
                       r'from its image\'s 12x8 .*EXIF orientation 8.*'
                       r"color_ignore_orientation"):
        LoadCheckedAnnotations()(results)
