"""Writers of bad and unusual samples for the bad-input tests, as the
``bad_inputs`` fixture (and the cases as parametrised fixtures)."""
import json
import os
import os.path as osp
from types import SimpleNamespace

import cv2
import numpy as np
import pytest

from mmmaskformer.datasets import make_sample


def png_bytes(arr) -> bytes:
    ok, buf = cv2.imencode('.png', arr)
    assert ok
    return buf.tobytes()


def jpg_bytes(arr) -> bytes:
    ok, buf = cv2.imencode('.jpg', arr)
    assert ok
    return buf.tobytes()


def write_good(root, split, name, index, size=64):
    img, sem, _ = make_sample(index, size=size)
    os.makedirs(osp.join(root, 'img_dir', split), exist_ok=True)
    os.makedirs(osp.join(root, 'ann_dir', split), exist_ok=True)
    cv2.imwrite(osp.join(root, 'img_dir', split, name + '.png'), img[..., ::-1])
    cv2.imwrite(osp.join(root, 'ann_dir', split, name + '.png'), sem)
    return img, sem


def _img(root, split, name):
    return osp.join(root, 'img_dir', split, name + '.png')


def _ann(root, split, name):
    return osp.join(root, 'ann_dir', split, name + '.png')


# each: (which file is named, reason in the message, writer)
def _img_empty(root, split, name):
    open(_img(root, split, name), 'wb').close()


def _img_truncated_png(root, split, name):
    data = open(_img(root, split, name), 'rb').read()
    open(_img(root, split, name), 'wb').write(data[:len(data) // 2])


def _img_truncated_jpeg(root, split, name):
    img = cv2.imread(_img(root, split, name))
    data = jpg_bytes(img)
    # a JPEG under a .png name decodes by content; cut before the end
    open(_img(root, split, name), 'wb').write(data[:len(data) * 2 // 3])


def _img_not_an_image(root, split, name):
    open(_img(root, split, name), 'w').write('this is a text file\n' * 20)


def _label_missing(root, split, name):
    os.remove(_ann(root, split, name))


def _label_wrong_size(root, split, name):
    sem = cv2.imread(_ann(root, split, name), cv2.IMREAD_UNCHANGED)
    cv2.imwrite(_ann(root, split, name), sem[:40, :50])


def _label_rgb(root, split, name):
    sem = cv2.imread(_ann(root, split, name), cv2.IMREAD_UNCHANGED)
    cv2.imwrite(_ann(root, split, name), np.stack([sem] * 3, -1))


def _label_rgba(root, split, name):
    sem = cv2.imread(_ann(root, split, name), cv2.IMREAD_UNCHANGED)
    cv2.imwrite(_ann(root, split, name), np.stack([sem] * 4, -1))


def _label_out_of_range(root, split, name):
    sem = cv2.imread(_ann(root, split, name), cv2.IMREAD_UNCHANGED)
    sem[:8, :8] = 9  # K = 6, ignore 255
    cv2.imwrite(_ann(root, split, name), sem)


def _label_16bit_large(root, split, name):
    # 258 = 2 mod 256: mmseg's uint8 cast would make it a valid class
    sem = cv2.imread(_ann(root, split, name), cv2.IMREAD_UNCHANGED)
    sem16 = sem.astype(np.uint16)
    sem16[:8, :8] = 258
    cv2.imwrite(_ann(root, split, name), sem16)


SEMANTIC_BAD = {
    'img_empty': ('img', 'empty file', _img_empty),
    'img_truncated_png': ('img', 'truncated PNG', _img_truncated_png),
    'img_truncated_jpeg': ('img', 'truncated JPEG', _img_truncated_jpeg),
    'img_not_an_image': ('img', 'not an image', _img_not_an_image),
    'label_missing': ('ann', 'no such file', _label_missing),
    'label_wrong_size': ('ann', 'differs from its image', _label_wrong_size),
    'label_rgb': ('ann', '3 channels', _label_rgb),
    'label_rgba': ('ann', '4 channels', _label_rgba),
    'label_out_of_range': ('ann', 'label values [9]', _label_out_of_range),
    'label_16bit_large': ('ann', 'label values [258]', _label_16bit_large),
}


def named_file(root, split, name, which):
    return (_img if which == 'img' else _ann)(root, split, name)


def write_semantic_root(root, cases, good=8, split='train', val_good=2):
    """``good`` good samples, then one sample per case named after it."""
    for i in range(good):
        write_good(root, split, f'{i:05d}', i)
    for i in range(val_good):
        write_good(root, 'val', f'{i:05d}', 1000 + i)
    for j, case in enumerate(cases):
        write_good(root, split, case, 100 + j)
        SEMANTIC_BAD[case][2](root, split, case)
    return root


# valid but unusual
def write_unusual(root, split='train'):
    """16-bit valid labels, an all-ignore label, a grayscale image and an
    image smaller than the 64x64 crop; plus a few ordinary samples."""
    for i in range(3):
        write_good(root, split, f'{i:05d}', i)
    for i in range(2):
        write_good(root, 'val', f'{i:05d}', 1000 + i)
    write_good(root, split, 'u16_valid', 10)
    sem = cv2.imread(_ann(root, split, 'u16_valid'), cv2.IMREAD_UNCHANGED)
    cv2.imwrite(_ann(root, split, 'u16_valid'), sem.astype(np.uint16))
    write_good(root, split, 'all_ignore', 11)
    cv2.imwrite(_ann(root, split, 'all_ignore'), np.full((64, 64), 255, np.uint8))
    write_good(root, split, 'grayscale', 12)
    img = cv2.imread(_img(root, split, 'grayscale'))
    cv2.imwrite(_img(root, split, 'grayscale'), cv2.cvtColor(img, cv2.COLOR_BGR2GRAY))
    write_good(root, split, 'small', 13, size=40)
    return root


# panoptic (the generated COCO panoptic data)
def panoptic_json(root, split='train'):
    return osp.join(root, 'annotations', f'panoptic_{split}.json')


def _rgb2id(rgb):
    rgb = rgb.astype(np.int64)
    return rgb[..., 0] + 256 * rgb[..., 1] + 256 * 256 * rgb[..., 2]


def _id2rgb(ids):
    return np.stack([ids % 256, ids // 256 % 256, ids // 65536], -1).astype(np.uint8)


def spoil_panoptic(root, case, image_index=0, split='train'):
    """Spoil image ``image_index`` of the split; returns its PNG path."""
    path = panoptic_json(root, split)
    data = json.load(open(path))
    ann = data['annotations'][image_index]
    png = osp.join(root, 'annotations', f'panoptic_{split}', ann['file_name'])
    if case == 'unlisted_id':
        ids = _rgb2id(cv2.imread(png)[..., ::-1])
        ids[:6, :6] = 77
        cv2.imwrite(png, _id2rgb(ids)[..., ::-1])
    elif case == 'missing_segment':
        ann['segments_info'].append(dict(id=88, category_id=4, iscrowd=0,
                                         area=16, bbox=[0, 0, 4, 4]))
    elif case == 'unknown_category':
        ann['segments_info'][0]['category_id'] = 999
    elif case == 'missing_png':
        os.remove(png)
    else:
        raise KeyError(case)
    json.dump(data, open(path, 'w'))
    return png


PANOPTIC_BAD = {
    'unlisted_id': 'segment ids [77] are in the PNG',
    'missing_segment': 'listed segments [88] do not occur',
    'unknown_category': 'category_id 999',
    'missing_png': 'no such file',
}


@pytest.fixture(scope='session')
def bad_inputs():
    """The writers and case tables above."""
    return SimpleNamespace(
        SEMANTIC_BAD=SEMANTIC_BAD, PANOPTIC_BAD=PANOPTIC_BAD,
        named_file=named_file, write_good=write_good,
        write_semantic_root=write_semantic_root, write_unusual=write_unusual,
        spoil_panoptic=spoil_panoptic, panoptic_json=panoptic_json,
        png_bytes=png_bytes, jpg_bytes=jpg_bytes)


@pytest.fixture(params=sorted(SEMANTIC_BAD))
def semantic_bad_case(request) -> str:
    """Each semantic bad case by name."""
    return request.param


@pytest.fixture(params=sorted(PANOPTIC_BAD))
def panoptic_bad_case(request) -> str:
    """Each panoptic bad case by name."""
    return request.param
