"""Inputs that used to end in a traceback get the one-line policy: a symlink
loop in the image folder, file names that are not UTF-8, and an image of
another size in a config without a crop."""
import os
import os.path as osp
import shutil

import cv2
import pytest
from mmengine.logging import MMLogger
from mmengine.registry import init_default_scope

import mmmaskformer  # noqa: F401
from mmmaskformer.datasets import generate_synthetic_dataset, make_sample
from mmmaskformer.engine import SampleGuard
from mmmaskformer.engine.sampler import SampleIndex
from mmmaskformer.errors import BadSampleError, printable


@pytest.fixture(scope='module')
def generated(tmp_path_factory):
    return generate_synthetic_dataset(
        str(tmp_path_factory.mktemp('syn')), num_train=4, num_val=2,
        size=64, progress=False)


@pytest.fixture
def root(generated, tmp_path):
    return str(shutil.copytree(generated, tmp_path / 'data'))


def semantic_cfg(root):
    init_default_scope('mmmaskformer')
    return dict(type='mmmaskformer.SyntheticShapesDataset', data_root=root,
                data_prefix=dict(img_path='img_dir/train',
                                 seg_map_path='ann_dir/train'),
                pipeline=[dict(type='mmmaskformer.LoadCheckedImage'),
                          dict(type='mmmaskformer.LoadCheckedAnnotations'),
                          dict(type='PackSegInputs')])


def test_symlink_loop_in_the_image_folder_is_one_line(root):
    os.symlink('.', osp.join(root, 'img_dir', 'train', 'again'))
    with pytest.raises(BadSampleError) as info:
        SampleGuard(semantic_cfg(root))
    msg = str(info.value)
    assert '\n' not in msg
    assert msg.startswith('cannot read dataset '
                          'mmmaskformer.SyntheticShapesDataset: '
                          f'{root}/img_dir/train/again/again/'), msg
    assert msg.endswith(': Too many levels of symbolic links'), msg


def test_printable_writes_undecodable_bytes_as_escapes():
    name = os.fsdecode(b'/data/\xff\xfeimage.png')
    assert printable(name) == '/data/\\xff\\xfeimage.png'
    assert printable('caf\u00e9.png') == 'caf\u00e9.png'  # valid: as it is
    assert printable('\ud800') == '\\ud800'  # a lone surrogate
    assert str(BadSampleError(name)) == '/data/\\xff\\xfeimage.png'


def test_skip_of_a_non_utf8_file_name_reaches_the_log_file(root, tmp_path,
                                                           capfd):
    train = osp.join(root, 'img_dir', 'train').encode()
    bad = b'\xff\xfe-bad'
    os.rename(osp.join(train, b'00001.png'), osp.join(train, bad + b'.png'))
    labels = osp.join(root, 'ann_dir', 'train').encode()
    os.rename(osp.join(labels, b'00001.png'), osp.join(labels, bad + b'.png'))
    with open(osp.join(train, bad + b'.png'), 'wb') as f:
        f.write(b'not an image')
    log_file = str(tmp_path / 'run.log')
    MMLogger.get_instance('test_non_utf8_names', log_file=log_file)
    guard = SampleGuard(semantic_cfg(root), bad_sample='skip')
    names = [osp.basename(guard.get_data_info(i)['img_path'])
             for i in range(len(guard))]
    index = names.index(os.fsdecode(bad + b'.png'))
    data = guard[SampleIndex(index, position=0)]  # skipped, one more drawn
    assert 'inputs' in data
    with open(log_file, encoding='utf-8') as f:
        log = f.read()
    assert 'skipping bad sample ' in log
    assert '\\xff\\xfe-bad.png: not an image file' in log, log
    assert 'Logging error' not in capfd.readouterr().err


def test_image_of_another_size_without_a_crop_names_the_file(root):
    """The tiny config pads to 64x64 and has no crop; an 80x80 image made
    ``torch.stack`` fail naming no file."""
    from mmseg.models import SegDataPreProcessor

    from mmmaskformer.engine.batch_sizes import check_batch_sizes
    img, sem, _ = make_sample(0, size=80)
    cv2.imwrite(osp.join(root, 'img_dir', 'train', '00002.png'),
                img[..., ::-1])
    cv2.imwrite(osp.join(root, 'ann_dir', 'train', '00002.png'), sem)
    guard = SampleGuard(semantic_cfg(root))
    batch = dict(inputs=[], data_samples=[])
    for i in range(len(guard)):
        sample = guard[i]
        batch['inputs'].append(sample['inputs'])
        batch['data_samples'].append(sample['data_samples'])
    preprocessor = SegDataPreProcessor(size=(64, 64))
    with pytest.raises(RuntimeError, match='stack expects each tensor'):
        preprocessor(dict(inputs=list(batch['inputs']),
                          data_samples=list(batch['data_samples'])), True)

    class Model:
        data_preprocessor = preprocessor

    with pytest.raises(BadSampleError) as info:
        check_batch_sizes(batch, Model())
    msg = str(info.value)
    assert msg.startswith(f'bad sample {root}/img_dir/train/00002.png '
                          '(80x80): larger than the data preprocessor\'s '
                          'size 64x64'), msg
    assert '00000.png' not in msg and '00001.png' not in msg


@pytest.mark.slow
@pytest.mark.parametrize('case', ['symlink_loop', 'image_of_another_size'])
def test_train_tool_stops_with_one_line(case, root, tmp_path, tiny_config,
                                        run_tool, data_options,
                                        stopped_cleanly):
    if case == 'symlink_loop':
        os.symlink('.', osp.join(root, 'img_dir', 'train', 'again'))
        expected = 'img_dir/train/again/again/'
    else:
        img, sem, _ = make_sample(0, size=80)
        cv2.imwrite(osp.join(root, 'img_dir', 'train', '00001.png'),
                    img[..., ::-1])
        cv2.imwrite(osp.join(root, 'ann_dir', 'train', '00001.png'), sem)
        expected = "img_dir/train/00001.png (80x80): larger than the data " \
                   "preprocessor's size 64x64"
    out = run_tool(['tools/train.py', tiny_config, '--work-dir',
                    str(tmp_path / 'work'), '--cfg-options'] +
                   data_options(root, 2, batch_size=4) +
                   ['train_dataloader.sampler.shuffle=False'], expect_rc=1)
    msg = stopped_cleanly(out, 'BadSampleError')
    assert expected in msg.splitlines()[0], msg
