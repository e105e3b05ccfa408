"""Inconsistent COCO panoptic JSONs are named (the JSON, the image and the
id) instead of merged or voided silently; consistent ones load as mmdet's
loader loads them (ours reimplements the PNG loading instead of overriding
mmdet's private ``_load_masks_and_semantic_segs``)."""
import json
import shutil

import numpy as np
import pytest
from mmdet.datasets.transforms import LoadPanopticAnnotations
from mmengine.registry import init_default_scope

import mmmaskformer  # noqa: F401
from mmmaskformer.datasets import LoadCheckedPanopticAnnotations, generate_synthetic_dataset
from mmmaskformer.engine import SampleGuard
from mmmaskformer.errors import BadSampleError
from mmmaskformer.registry import DATASETS


@pytest.fixture(scope='module')
def generated(tmp_path_factory):
    return generate_synthetic_dataset(
        str(tmp_path_factory.mktemp('pan')), num_train=4, num_val=1,
        size=32, progress=False)


@pytest.fixture
def root(generated, tmp_path):
    return shutil.copytree(generated, tmp_path / 'data')


def dataset_cfg(root):
    return dict(type='mmmaskformer.SyntheticShapesPanopticDataset',
                data_root=str(root) + '/',
                ann_file='annotations/panoptic_train.json',
                data_prefix=dict(img='img_dir/train/',
                                 seg='annotations/panoptic_train/'),
                pipeline=[])


def build(root):
    init_default_scope('mmmaskformer')
    return DATASETS.build(dataset_cfg(root))


def edit_json(root, edit):
    path = root / 'annotations' / 'panoptic_train.json'
    data = json.loads(path.read_text())
    edit(data)
    path.write_text(json.dumps(data))
    return str(path)


def reasons(dataset):
    return {dataset.get_data_info(i)['img_path'].rsplit('/', 1)[1]:
            dataset.get_data_info(i).get('bad_reason')
            for i in range(len(dataset))}


def test_consistent_json_has_no_findings(root):
    assert set(reasons(build(root)).values()) == {None}


def test_duplicate_image_id_is_named(root):
    def edit(data):  # image 1's record and annotation now claim id 0
        data['images'][1]['id'] = 0
        data['annotations'][1]['image_id'] = 0
    json_path = edit_json(root, edit)
    found = reasons(build(root))
    assert len(found) == 3  # mmdet's index merged two images into one
    reason = found['00001.png']
    assert f'{json_path}: image 00001.png: image id 0 is listed 2 times in ' \
           '"images" (00000.png, 00001.png)' in reason, reason
    assert '2 entries of "annotations" have image_id 0' in reason


def test_duplicate_segment_id_is_named(root):
    def edit(data):
        segments = data['annotations'][2]['segments_info']
        segments[1]['id'] = segments[0]['id']
    json_path = edit_json(root, edit)
    found = reasons(build(root))
    assert found['00002.png'] == (
        f'{json_path}: image 00002.png: segment id 1 is listed 2 times in '
        'its segments_info')
    assert [r for name, r in found.items() if name != '00002.png'] == \
        [None] * 3


def test_findings_stop_the_run_at_start_up_with_error(root):
    edit_json(root, lambda d: d['images'][3].update(id=2))
    guard = SampleGuard(dataset_cfg(root), bad_sample='error')
    with pytest.raises(BadSampleError, match=r'image id 2 is listed 2 '
                                             r'times'):
        guard.full_init()


def load_sample(dataset, index, loader):
    info = dataset.get_data_info(index)
    results = dict(info, ori_shape=(info['height'], info['width']))
    return loader(results)


def test_area_zero_segment_present_in_png_is_named(root):
    def edit(data):
        data['annotations'][0]['segments_info'][0]['area'] = 0
    json_path = edit_json(root, edit)
    dataset = build(root)
    with pytest.raises(ValueError) as info:
        load_sample(dataset, 0, LoadCheckedPanopticAnnotations())
    assert str(info.value).startswith(
        f'{json_path}: image 00000.png: segment 1 is listed with area 0 or '
        'an empty bbox but has ')
    assert 'pixels in ' in str(info.value) and \
        'panoptic_train/00000.png' in str(info.value)


def test_area_zero_segment_absent_from_png_is_dropped_as_mmdet_does(root):
    def edit(data):  # a listed segment with no pixels and area 0
        data['annotations'][0]['segments_info'].append(
            dict(id=99, category_id=1, iscrowd=0, area=0, bbox=[0, 0, 0, 0]))
    edit_json(root, edit)
    dataset = build(root)
    ours = load_sample(dataset, 0, LoadCheckedPanopticAnnotations())
    assert 99 not in [s['id'] for s in ours['segments_info']]


def test_same_outputs_as_mmdets_loader(generated):
    dataset = build(generated)
    for index in range(len(dataset)):
        ours = load_sample(dataset, index, LoadCheckedPanopticAnnotations())
        theirs = load_sample(dataset, index, LoadPanopticAnnotations())
        assert ours['gt_seg_map'].dtype == theirs['gt_seg_map'].dtype
        assert np.array_equal(ours['gt_seg_map'], theirs['gt_seg_map'])
        assert np.array_equal(ours['gt_masks'].masks, theirs['gt_masks'].masks)
        assert ours['gt_masks'].masks.dtype == theirs['gt_masks'].masks.dtype
        assert np.array_equal(ours['gt_bboxes'].tensor.numpy(),
                              theirs['gt_bboxes'].tensor.numpy())
        for key in ('gt_bboxes_labels', 'gt_ignore_flags'):
            assert ours[key].dtype == theirs[key].dtype
            assert np.array_equal(ours[key], theirs[key])
        assert len(ours['gt_masks']) >= 1 and \
            np.unique(ours['gt_seg_map']).size >= 2
