"""ADE20K-Full end to end on a fake ADE20K_2021_17_01 release built here:
the preparation tool (pixel by pixel), the dataset with 16-bit labels and
ignore 65535, a few training iterations and tools/test.py."""
import glob
import os
import os.path as osp
import pickle

import numpy as np
import pytest
from PIL import Image

from mmmaskformer.datasets import ade20k_full_categories

WALL, BUILDING, CLASS_300, CLASS_846 = 2978, 312, 3108, 3148  # ade ids
NOT_IN_847 = 5  # an ADE id that is not one of the 847


def encode(ade: np.ndarray, rng) -> np.ndarray:
    """ADE ids -> the release's _seg.png RGB (R = id // 256 * 10 + noise
    below 10, G = id % 256, B = an instance id, ignored)."""
    r = ade // 256 * 10 + rng.integers(0, 10, ade.shape)
    g = ade % 256
    b = rng.integers(0, 256, ade.shape)
    return np.stack([r, g, b], -1).astype(np.uint8)


def image(h, w, rng):
    return rng.integers(0, 256, (h, w, 3)).astype(np.uint8)


@pytest.fixture(scope='module')
def release(tmp_path_factory, run_tool):
    rng = np.random.default_rng(0)
    parent = tmp_path_factory.mktemp('datasets')
    root = parent / 'ADE20K_2021_17_01'
    samples = {}
    # 1: small, every kind of value
    a = np.zeros((40, 60), np.int64)
    a[:20, :30] = WALL
    a[:20, 30:] = BUILDING
    a[20:, :20] = CLASS_300  # train id 300 > 255
    a[20:, 20:40] = NOT_IN_847
    a[20:, 40:] = 0  # unlabelled
    samples[('training/home', 'ADE_train_00000001.jpg')] = a
    # 2: short side 520 > 512: resized to 591 x 512 (nearest for labels)
    b = np.full((600, 520), CLASS_846, np.int64)
    b[:, :260] = WALL
    samples[('training/street', 'ADE_train_00000002.jpg')] = b
    # 3, 4: more training images
    for i in (3, 4):
        c = np.full((48, 64), BUILDING, np.int64)
        c[:24] = WALL
        samples[('training/home', f'ADE_train_0000000{i}.jpg')] = c
    # 5: validation
    v = np.full((40, 60), WALL, np.int64)
    v[:, 30:] = CLASS_300
    samples[('validation/office', 'ADE_val_00000001.jpg')] = v
    folders, filenames = [], []
    for (folder, name), ade in samples.items():
        d = root / 'images' / 'ADE' / folder
        d.mkdir(parents=True, exist_ok=True)
        Image.fromarray(image(*ade.shape, rng)).save(d / name)
        Image.fromarray(encode(ade, rng)).save(
            d / name.replace('.jpg', '_seg.png'))
        folders.append(f'ADE20K_2021_17_01/images/ADE/{folder}')
        filenames.append(name)
    index = dict(folder=folders, filename=filenames,
                 objectnames=['wall', 'building'],
                 objectPresence=np.zeros((2, len(filenames)), np.int64))
    with open(root / 'index_ade20k.pkl', 'wb') as f:
        pickle.dump(index, f)
    run_tool(['tools/dataset_converters/ade20k_full.py', str(root),
              '--nproc', '2'])
    return str(root), samples


def label(root, split, name):
    return np.asarray(Image.open(osp.join(
        root, 'annotations_detectron2', split, name + '.tif')))


def test_categories_are_the_official_847():
    cats = ade20k_full_categories()
    assert len(cats) == 847 and cats[0]['name'] == 'wall'
    assert len({c['ade_id'] for c in cats}) == 847


@pytest.mark.slow
def test_labels_pixel_by_pixel(release):
    root, _ = release
    lab = label(root, 'training', 'ADE_train_00000001')
    assert lab.dtype == np.uint16 and lab.shape == (40, 60)
    expected = np.full((40, 60), 65535, np.uint16)
    expected[:20, :30] = 0  # wall
    expected[:20, 30:] = 1  # building
    expected[20:, :20] = 300
    assert np.array_equal(lab, expected)  # outside-847 and 0 -> 65535
    img = Image.open(osp.join(root, 'images_detectron2', 'training',
                              'ADE_train_00000001.jpg'))
    assert img.size == (60, 40) and img.format == 'JPEG'


@pytest.mark.slow
def test_large_images_are_resized_to_short_side_512(release):
    root, _ = release
    lab = label(root, 'training', 'ADE_train_00000002')
    assert lab.shape == (591, 512)  # round(600 / 520 * 512) = 591
    assert set(np.unique(lab).tolist()) == {0, 846}
    assert (lab[:, :250] == 0).all() and (lab[:, 262:] == 846).all()
    img = Image.open(osp.join(root, 'images_detectron2', 'training',
                              'ADE_train_00000002.jpg'))
    assert img.size == (512, 591)


@pytest.mark.slow
def test_splits(release):
    root, _ = release
    train = sorted(os.listdir(osp.join(root, 'annotations_detectron2',
                                       'training')))
    val = os.listdir(osp.join(root, 'annotations_detectron2', 'validation'))
    assert len(train) == 4 and val == ['ADE_val_00000001.tif']


CONFIG = '''
_base_ = ['{tiny}']
crop_size = (64, 64)
model = dict(
    data_preprocessor=dict(seg_pad_val=65535),
    decode_head=dict(num_classes=847, ignore_index=65535))
train_pipeline = [
    dict(type='mmmaskformer.LoadCheckedImage'),
    dict(type='mmmaskformer.LoadCheckedAnnotations'),
    dict(type='RandomCrop', crop_size=crop_size, cat_max_ratio=1.0,
         ignore_index=65535),
    dict(type='Pad', size=crop_size, pad_val=dict(img=128, seg=65535)),
    dict(type='RandomFlip', prob=0.5),
    dict(type='PackSegInputs')
]
test_pipeline = [
    dict(type='mmmaskformer.LoadCheckedImage'),
    dict(type='mmmaskformer.LoadCheckedAnnotations'),
    dict(type='PackSegInputs')
]
train_dataloader = dict(batch_size=2, num_workers=0, persistent_workers=False,
    dataset=dict(type='ADE20KFullDataset', data_root='{root}',
        data_prefix=dict(img_path='images_detectron2/training',
                         seg_map_path='annotations_detectron2/training'),
        pipeline=train_pipeline))
val_dataloader = dict(num_workers=0, persistent_workers=False,
    dataset=dict(type='ADE20KFullDataset', data_root='{root}',
        data_prefix=dict(img_path='images_detectron2/validation',
                         seg_map_path='annotations_detectron2/validation'),
        pipeline=test_pipeline))
test_dataloader = val_dataloader
val_evaluator = dict(type='mmmaskformer.WideLabelIoUMetric', iou_metrics=['mIoU'],
                     ignore_index=65535)
test_evaluator = val_evaluator
train_cfg = dict(max_iters=3, val_interval=3)
param_scheduler = [dict(type='PolyLR', eta_min=0, power=0.9, begin=0,
                        end=3, by_epoch=False)]
default_hooks = dict(logger=dict(interval=1))
'''


@pytest.mark.slow
def test_train_and_test_on_the_prepared_data(release, tmp_path, run_tool,
                                              tiny_config):
    root, _ = release
    config = tmp_path / 'ade20k_full_tiny.py'
    config.write_text(CONFIG.format(tiny=tiny_config, root=root))
    work = str(tmp_path / 'w')
    log = run_tool(['tools/train.py', str(config), '--work-dir', work,
                    '--cfg-options', 'train_cfg.bad_sample=error'])
    assert 'Iter(train) [3/3]' in log
    out = run_tool(['tools/test.py', str(config), osp.join(work, 'iter_3.pth'),
                    '--work-dir', str(tmp_path / 't'), '--out',
                    str(tmp_path / 'pred')])
    assert 'mIoU' in out
    preds = glob.glob(str(tmp_path / 'pred' / '*.png'))
    assert len(preds) == 1
    pred = np.asarray(Image.open(preds[0]))
    assert pred.shape == (40, 60) and int(pred.max()) < 847


def test_predictions_above_255_are_written_in_16_bits(tmp_path):
    from mmmaskformer.evaluation import save_label_map
    mask = np.array([[0, 300], [846, 5]])
    save_label_map(mask, str(tmp_path / 'a.png'))
    back = np.asarray(Image.open(tmp_path / 'a.png'))
    assert back.dtype == np.uint16 and np.array_equal(back, mask)
    save_label_map(np.array([[0, 149]]), str(tmp_path / 'b.png'))
    assert np.asarray(Image.open(tmp_path / 'b.png')).dtype == np.uint8
