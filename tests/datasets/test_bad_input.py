"""Bad input gets a clear error naming the file, never a silent result."""
import cv2
import numpy as np
import pytest
from mmengine.dataset import Compose
from mmengine.registry import init_default_scope

import mmmaskformer  # noqa: F401
from mmmaskformer.datasets import make_sample


def pipeline():
    init_default_scope('mmmaskformer')
    return Compose([dict(type='mmmaskformer.LoadCheckedImage'),
                    dict(type='mmmaskformer.LoadCheckedAnnotations'),
                    dict(type='PackSegInputs')])


def write_pair(tmp_path):
    img, sem, _ = make_sample(0, size=32)
    cv2.imwrite(str(tmp_path / 'img.png'), img[..., ::-1])
    cv2.imwrite(str(tmp_path / 'ann.png'), sem)
    return dict(img_path=str(tmp_path / 'img.png'),
                seg_map_path=str(tmp_path / 'ann.png'), seg_fields=[],
                reduce_zero_label=False)


def test_good_pair_loads(tmp_path):
    out = pipeline()(write_pair(tmp_path))
    img, sem, _ = make_sample(0, size=32)
    assert np.array_equal(out['data_samples'].gt_sem_seg.data[0].numpy(),
                          sem)


def test_corrupt_label_map_names_the_file(tmp_path):
    info = write_pair(tmp_path)
    (tmp_path / 'ann.png').write_bytes(b'not a png at all')
    with pytest.raises(ValueError, match='failed to load annotation: .*ann.png'):
        pipeline()(info)


def test_corrupt_image_names_the_file(tmp_path):
    info = write_pair(tmp_path)
    (tmp_path / 'img.png').write_bytes(b'\x89PNG garbage')
    with pytest.raises(ValueError,
                       match='failed to load image: .*img.png: not an image'):
        pipeline()(info)
