"""The bad-input policy: every case, through the real pipeline and the tools.

Each bad case is checked in process through ``SampleGuard`` and the tiny
config's own train pipeline (fast, every case), and end to end through
``tools/train.py`` / ``tools/test.py``: skipped and named with ``'skip'``,
one clean error with ``'error'``, a stop when too many are bad, a stop in
validation/test, and training on valid but unusual inputs.
"""
import copy
import os.path as osp
import re
import shutil

import pytest
from mmengine.config import Config
from mmengine.registry import init_default_scope

import mmmaskformer  # noqa: F401
from mmmaskformer.datasets import generate_synthetic_dataset
from mmmaskformer.engine import BadSampleError, SampleGuard

REPO = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
TINY = osp.join(REPO, 'configs', 'maskformer_r18-tiny_synthetic-64x64.py')
TINY_PANOPTIC = osp.join(REPO, 'configs',
                         'maskformer_r18-tiny_synthetic-panoptic-64x64.py')
# the policy is the engine's, whatever the head: Mask2Former's demo configs
# run the end-to-end cases too
M2F = osp.join(REPO, 'configs', 'mask2former_r18-tiny_synthetic-64x64.py')
M2F_PANOPTIC = osp.join(REPO, 'configs',
                        'mask2former_r18-tiny_synthetic-panoptic-64x64.py')


def guarded(config, split_cfg, data_root, policy='error', **overrides):
    init_default_scope('mmmaskformer')
    cfg = Config.fromfile(config)
    ds = copy.deepcopy(cfg[split_cfg].dataset.to_dict())
    ds['data_root'] = data_root
    ds.update(overrides)
    guard = SampleGuard(ds, bad_sample=policy, seed=0)
    guard.full_init()
    return guard


def index_of(guard, name):
    for i in range(len(guard)):
        if name in guard.get_data_info(i)['img_path']:
            return i
    raise KeyError(name)


def test_semantic_bad_case_names_file_and_reason(semantic_bad_case, tmp_path, bad_inputs):
    case = semantic_bad_case
    root = bad_inputs.write_semantic_root(str(tmp_path), [case], good=1)
    which, reason, _ = bad_inputs.SEMANTIC_BAD[case]
    guard = guarded(TINY, 'train_dataloader', root)
    good = guard[index_of(guard, '00000')]
    assert 'inputs' in good
    with pytest.raises(BadSampleError) as info:
        guard[index_of(guard, case)]
    msg = str(info.value)
    assert bad_inputs.named_file(root, 'train', case, which) in msg, msg
    assert reason in msg, msg


def test_skip_draws_another_sample_deterministically(tmp_path, bad_inputs):
    root = bad_inputs.write_semantic_root(str(tmp_path), ['label_rgb'], good=3)
    guard = guarded(TINY, 'train_dataloader', root, policy='skip')
    from mmmaskformer.engine import SampleIndex
    bad = index_of(guard, 'label_rgb')
    a = guard[SampleIndex(bad, 5)]
    b = guard[SampleIndex(bad, 5)]
    assert 'label_rgb.png' in a['_skipped_samples']
    assert a['data_samples'].img_path == b['data_samples'].img_path
    assert 'label_rgb' not in a['data_samples'].img_path
    assert (a['inputs'] == b['inputs']).all()


@pytest.fixture(scope='module')
def panoptic_root(tmp_path_factory):
    return generate_synthetic_dataset(
        str(tmp_path_factory.mktemp('panoptic')), num_train=4, num_val=2,
        progress=False)


def test_panoptic_bad_case_names_file_and_reason(panoptic_bad_case,
                                                 panoptic_root, tmp_path, bad_inputs):
    case = panoptic_bad_case
    root = str(tmp_path / 'data')
    shutil.copytree(panoptic_root, root)
    png = bad_inputs.spoil_panoptic(root, case)
    reason = bad_inputs.PANOPTIC_BAD[case]
    if case == 'unknown_category':  # found while parsing: stops at start
        with pytest.raises(BadSampleError) as info:
            guarded(TINY_PANOPTIC, 'train_dataloader', root + '/')
        msg = str(info.value)
        assert 'panoptic_train.json' in msg and '00000.png' in msg, msg
        assert reason in msg
        guard = guarded(TINY_PANOPTIC, 'train_dataloader', root + '/',
                        policy='skip')
        with pytest.raises(BadSampleError, match=reason):
            guard._load(0)
        assert 'inputs' in guard[1]
        return
    guard = guarded(TINY_PANOPTIC, 'train_dataloader', root + '/')
    assert 'inputs' in guard[1]
    with pytest.raises(BadSampleError) as info:
        guard[0]
    msg = str(info.value)
    assert png in msg and reason in msg, msg


# ------------------------------------------------------ through the tools
@pytest.fixture(scope='module')
def train(run_tool, data_options):
    """``train(data_root, work, extra_opts=(), expect_rc=0, iters=4,
    batch=4, config=TINY)``: tools/train.py on a short run."""
    def train(data_root, work, extra_opts=(), expect_rc=0, iters=4, batch=4,
              config=TINY):
        return run_tool(['tools/train.py', config, '--work-dir', work,
                         '--cfg-options'] +
                        data_options(data_root, iters, batch_size=batch) +
                        list(extra_opts), expect_rc=expect_rc)
    return train


@pytest.mark.slow
@pytest.mark.parametrize('config', [TINY, M2F], ids=['maskformer',
                                                    'mask2former'])
def test_train_skips_and_names_every_bad_sample(tmp_path, bad_inputs, train,
                                               config):
    cases = sorted(bad_inputs.SEMANTIC_BAD)
    root = bad_inputs.write_semantic_root(str(tmp_path / 'data'), cases, good=8)
    log = train(root, str(tmp_path / 'w'),
                ['train_cfg.max_bad_fraction=1.0',
                 'train_dataloader.sampler.shuffle=False'], iters=6,
                config=config)
    for case in cases:  # 18 samples in order, 24 draws: each is met
        which, reason, _ = bad_inputs.SEMANTIC_BAD[case]
        path = bad_inputs.named_file(root, 'train', case, which)
        assert re.search(re.escape(path) + '.*' + re.escape(reason), log), \
            (case, log[-3000:])
    assert 'Iter(train) [6/6]' in log
    assert re.search(r'skipped \d+ bad sample\(s\), \d+ of \d+ drawn so far',
                     log)


@pytest.mark.slow
def test_train_error_policy_stops_with_one_message(tmp_path, bad_inputs, stopped_cleanly, train):
    root = bad_inputs.write_semantic_root(str(tmp_path / 'data'), ['label_16bit_large'],
                               good=3)
    out = train(root, str(tmp_path / 'w'),
                ['train_cfg.bad_sample=error',
                 'train_dataloader.sampler.shuffle=False'], expect_rc=1)
    msg = stopped_cleanly(out, 'BadSampleError')
    assert 'label_16bit_large.png' in msg and 'label values [258]' in msg


@pytest.mark.slow
def test_train_stops_when_too_many_samples_are_bad(tmp_path, bad_inputs, stopped_cleanly, train):
    # default policy: skip, at most 1% of max(drawn, dataset length) bad
    root = bad_inputs.write_semantic_root(str(tmp_path / 'data'),
                               ['img_not_an_image'], good=3)
    out = train(root, str(tmp_path / 'w'), expect_rc=1, iters=3)
    msg = stopped_cleanly(out, 'BadSampleError')
    assert 'max_bad_fraction=0.01' in msg and 'img_not_an_image.png' in msg


@pytest.mark.slow
def test_validation_and_test_never_skip(
        tmp_path, bad_inputs, data_options, run_tool, stopped_cleanly, train):
    root = bad_inputs.write_semantic_root(str(tmp_path / 'data'), [], good=2)
    work = str(tmp_path / 'w')
    train(root, work, iters=2, batch=2)
    # a bad val image stops the test (and would stop validation)
    open(osp.join(root, 'img_dir', 'val', '00001.png'), 'wb').close()
    out = run_tool(['tools/test.py', TINY, osp.join(work, 'iter_2.pth'),
                    '--work-dir', str(tmp_path / 't'), '--cfg-options'] +
                   data_options(root, 2), expect_rc=1)
    msg = stopped_cleanly(out, 'BadSampleError')
    assert osp.join(root, 'img_dir', 'val', '00001.png') in msg
    assert 'empty file' in msg
    out = train(root, str(tmp_path / 'w2'), iters=2, batch=2, expect_rc=1)
    assert 'empty file' in stopped_cleanly(out, 'BadSampleError')


CROP_CONFIG = '''
_base_ = ['{tiny}']
crop_size = (64, 64)
train_pipeline = [
    dict(type='mmmaskformer.LoadCheckedImage'),
    dict(type='mmmaskformer.LoadCheckedAnnotations'),
    dict(type='RandomResize', scale=(64, 64), ratio_range=(0.9, 1.1),
         keep_ratio=True),
    dict(type='RandomCrop', crop_size=crop_size, cat_max_ratio=1.0),
    dict(type='Pad', size=crop_size, pad_val=dict(img=128, seg=255)),
    dict(type='RandomFlip', prob=0.5),
    dict(type='PackSegInputs')
]
train_dataloader = dict(dataset=dict(pipeline=train_pipeline))
'''


@pytest.mark.slow
def test_valid_unusual_inputs_train(tmp_path, bad_inputs, train):
    root = bad_inputs.write_unusual(str(tmp_path / 'data'))
    config = tmp_path / 'crop.py'
    config.write_text(CROP_CONFIG.format(tiny=TINY))
    log = train(root, str(tmp_path / 'w'),
                ['train_cfg.bad_sample=error',
                 'train_dataloader.sampler.shuffle=False'], iters=3, batch=3,
                config=str(config))
    assert 'Iter(train) [3/3]' in log and 'skipp' not in log
    guard = guarded(str(config), 'train_dataloader', root)
    u16 = guard[index_of(guard, 'u16_valid')]
    values = set(u16['data_samples'].gt_sem_seg.data.unique().tolist())
    assert values <= set(range(6)) | {255} and values & set(range(6))
    small = guard[index_of(guard, 'small')]
    assert tuple(small['inputs'].shape[-2:]) == (64, 64)
    gray = guard[index_of(guard, 'grayscale')]
    assert gray['inputs'].shape[0] == 3
    empty = guard[index_of(guard, 'all_ignore')]
    assert (empty['data_samples'].gt_sem_seg.data == 255).all()


@pytest.mark.slow
@pytest.mark.parametrize('config', [TINY_PANOPTIC, M2F_PANOPTIC],
                         ids=['maskformer', 'mask2former'])
def test_panoptic_train_names_the_bad_png(
        panoptic_root, tmp_path, bad_inputs, panoptic_options, run_tool,
        stopped_cleanly, config):
    root = str(tmp_path / 'data')
    shutil.copytree(panoptic_root, root)
    png = bad_inputs.spoil_panoptic(root, 'unlisted_id')
    opts = panoptic_options(root, 4)[1:] + [
        'train_cfg.bad_sample=error', 'train_dataloader.sampler.shuffle=False']
    out = run_tool(['tools/train.py', config, '--work-dir',
                    str(tmp_path / 'w'), '--cfg-options'] + opts, expect_rc=1)
    msg = stopped_cleanly(out, 'BadSampleError')
    assert png in msg and 'segment ids [77]' in msg
