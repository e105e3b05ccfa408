"""Our semantic label loader gives mmseg's values wherever mmseg's loader is
right (it reimplements the loading instead of overriding mmseg's private
``_load_seg_map``), and loads the labels mmseg reads (1-bit PNGs too)."""
import cv2
import numpy as np
import pytest
from mmseg.datasets.transforms import LoadAnnotations
from PIL import Image

from mmmaskformer.datasets import LoadCheckedAnnotations


def results(path, reduce_zero_label=False, label_map=None):
    out = dict(seg_map_path=str(path), seg_fields=[],
               reduce_zero_label=reduce_zero_label)
    if label_map is not None:
        out['label_map'] = label_map
    return out


def write_png(path, arr):
    """Pillow's mode follows the dtype: bool -> '1', uint8 -> 'L'."""
    Image.fromarray(arr).save(path, 'PNG')
    return path


def palette_png(path, arr):
    img = Image.fromarray(arr, 'P')
    img.putpalette(list(np.random.default_rng(0).integers(0, 256, 768)))
    img.save(path)
    return path


LABEL = np.random.default_rng(1).choice(
    np.array([0, 1, 2, 5, 7, 254, 255], np.uint8), size=(9, 13))


@pytest.mark.parametrize('reduce_zero_label', [False, True])
@pytest.mark.parametrize('label_map', [None, {}, {1: 2, 2: 1, 7: 255},
                                       {0: 3, 254: 0}])
@pytest.mark.parametrize('kind', ['gray', 'palette'])
def test_same_values_as_mmseg(tmp_path, reduce_zero_label, label_map, kind):
    path = tmp_path / 'label.png'
    if kind == 'gray':
        write_png(path, LABEL)
    else:
        palette_png(path, LABEL)
    ours = LoadCheckedAnnotations()(results(path, reduce_zero_label,
                                            label_map))
    theirs = LoadAnnotations()(results(path, reduce_zero_label, label_map))
    assert ours['gt_seg_map'].dtype == theirs['gt_seg_map'].dtype == np.uint8
    assert np.array_equal(ours['gt_seg_map'], theirs['gt_seg_map'])
    assert ours['seg_fields'] == theirs['seg_fields'] == ['gt_seg_map']


def test_one_bit_png_loads_as_mmseg_reads_it(tmp_path):
    mask = np.zeros((7, 10), bool)
    mask[2:5, 3:9] = True
    path = write_png(tmp_path / 'mask.png', mask)
    assert Image.open(path).mode == '1'
    ours = LoadCheckedAnnotations()(results(path))['gt_seg_map']
    theirs = LoadAnnotations()(results(path))['gt_seg_map']
    assert ours.dtype == np.uint8
    assert np.array_equal(ours, mask.astype(np.uint8))
    assert np.array_equal(ours, theirs)


def test_values_outside_the_label_space_are_named(tmp_path):
    path = write_png(tmp_path / 'label.png', LABEL)
    load = LoadCheckedAnnotations()
    load.set_label_space(6, 255)  # 7 and 254 are not classes
    with pytest.raises(ValueError, match=r'label.png: label values \[7, 254\]'
                       r' are outside \[0, 6\) and are not the ignore index '
                       r'255'):
        load(results(path))
    # after reduce_zero_label: 0->255, 1->0, 2->1, 5->4, 7->6, 254->253
    with pytest.raises(ValueError, match=r'label values \[6, 253\]'):
        load(results(path, reduce_zero_label=True))
    load.set_label_space(254, 255)
    out = load(results(path, reduce_zero_label=True))['gt_seg_map']
    assert sorted(np.unique(out).tolist()) == [0, 1, 4, 6, 253, 255]


def test_sixteen_bit_values_are_kept(tmp_path):
    label = np.array([[0, 1, 300], [846, 65535, 2]], np.uint16)
    path = tmp_path / 'wide.png'
    cv2.imwrite(str(path), label)
    load = LoadCheckedAnnotations()
    load.set_label_space(847, 65535)
    out = load(results(path))['gt_seg_map']
    assert out.dtype == np.uint16 and np.array_equal(out, label)
    # reduce_zero_label: 0 -> the ignore index, v -> v - 1, ignore stays
    out = load(results(path, reduce_zero_label=True))['gt_seg_map']
    assert out.dtype == np.uint16
    assert out.tolist() == [[65535, 0, 299], [845, 65535, 1]]
