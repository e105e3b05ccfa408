"""``--resume`` without a path finds the last checkpoint where the checkpoint
hook writes it: ``default_hooks.checkpoint.out_dir`` and a custom
``filename_tmpl`` included."""
import os
import os.path as osp
import shutil

import pytest
import torch
from mmengine.config import Config

from mmmaskformer.datasets import generate_synthetic_dataset
from mmmaskformer.engine.checkpoint_files import (
    checkpoint_dir,
    find_last_checkpoint,
    template_pattern,
)
from mmmaskformer.utils.checkpoint import safe_load


def _save(path, step):
    os.makedirs(osp.dirname(path), exist_ok=True)
    torch.save(dict(meta=dict(iter=step), state_dict={}), path)
    return path


def _cfg(work_dir, **hook):
    return Config(dict(work_dir=str(work_dir), default_hooks=dict(
        checkpoint=dict(type='mmmaskformer.AtomicCheckpointHook', **hook))))


def test_template_pattern_takes_the_step_of_any_template():
    assert template_pattern('iter_{}.pth').match('iter_12.pth').group(1) \
        == '12'
    p = template_pattern('ckpt_{:06d}.pth')
    assert p.match('ckpt_000042.pth').group(1) == '000042'
    assert p.match('ckpt_000042.pth.tmp') is None
    assert template_pattern('iter_{}.pth').match('best_mIoU_iter_4.pth') \
        is None
    assert template_pattern('run.[x].pth').match('run.[x].pth')  # escaped


def test_checkpoint_dir_is_where_mmengine_puts_it(tmp_path):
    work = str(tmp_path / 'work_dirs' / 'run1')
    assert checkpoint_dir(work, None) == work
    assert checkpoint_dir(work, work) == work
    assert checkpoint_dir(work, str(tmp_path / 'ckpts')) == \
        str(tmp_path / 'ckpts' / 'run1')


def test_out_dir_is_searched(tmp_path):
    work = tmp_path / 'work_dirs' / 'run1'
    work.mkdir(parents=True)
    out = tmp_path / 'ckpts'
    _save(str(out / 'run1' / 'iter_2.pth'), 2)
    want = _save(str(out / 'run1' / 'iter_4.pth'), 4)
    _save(str(work / 'iter_1.pth'), 1)  # an older run's, in the work dir
    path, _ = find_last_checkpoint(_cfg(work, by_epoch=False,
                                        out_dir=str(out)))
    assert path == want


def test_custom_template_newest_complete_wins(tmp_path):
    work = tmp_path / 'w'
    _save(str(work / 'ckpt_000002.pth'), 2)
    want = _save(str(work / 'ckpt_000010.pth'), 10)
    cut = _save(str(work / 'ckpt_000012.pth'), 12)
    data = open(cut, 'rb').read()
    with open(cut, 'wb') as f:
        f.write(data[:len(data) // 2])
    (work / 'ckpt_000014.pth.tmp').write_bytes(b'partial')
    path, passed_over = find_last_checkpoint(
        _cfg(work, by_epoch=False, filename_tmpl='ckpt_{:06d}.pth'))
    assert path == want
    assert len(passed_over) == 1 and cut in passed_over[0]


def test_last_checkpoint_naming_a_missing_file_is_passed_over(tmp_path):
    work = tmp_path / 'w'
    want = _save(str(work / 'iter_2.pth'), 2)
    (work / 'last_checkpoint').write_text(str(work / 'iter_4.pth'))
    assert find_last_checkpoint(_cfg(work, by_epoch=False))[0] == want


def test_last_checkpoint_outside_the_derived_folder_is_found(tmp_path):
    """A file last_checkpoint names is a candidate wherever it lies."""
    work = tmp_path / 'w'
    work.mkdir()
    want = _save(str(tmp_path / 'elsewhere' / 'iter_6.pth'), 6)
    (work / 'last_checkpoint').write_text(want)
    assert find_last_checkpoint(_cfg(work, by_epoch=False))[0] == want


def test_nothing_to_resume_says_where_it_looked(tmp_path):
    path, lines = find_last_checkpoint(_cfg(tmp_path / 'w', by_epoch=False))
    assert path is None
    assert lines == [f"--resume: no 'iter_{{}}.pth' checkpoint in "
                     f"{tmp_path / 'w'}"]


@pytest.mark.slow
def test_train_resume_honours_out_dir_and_filename_tmpl(
        tmp_path, run_tool, data_options):
    root = generate_synthetic_dataset(str(tmp_path / 'data'), num_train=6,
                                      num_val=2, progress=False)
    work = str(tmp_path / 'work_dirs' / 'run1')
    out = str(tmp_path / 'ckpts')
    args = ['tools/train.py',
            'configs/maskformer_r18-tiny_synthetic-64x64.py', '--work-dir',
            work, '--cfg-options'] + data_options(root, 4, ckpt_interval=2) \
        + [f'default_hooks.checkpoint.out_dir={out}',
           'default_hooks.checkpoint.filename_tmpl=ckpt_{:04d}.pth']
    run_tool(args)
    folder = osp.join(out, 'run1')
    assert sorted(n for n in os.listdir(folder) if n.endswith('.pth')) == \
        ['ckpt_0002.pth', 'ckpt_0004.pth']
    uninterrupted = str(tmp_path / 'ckpt_0004.pth')
    shutil.move(osp.join(folder, 'ckpt_0004.pth'), uninterrupted)
    # last_checkpoint now names a missing file: passed over
    log = run_tool(args[:4] + ['--resume'] + args[4:])
    assert 'resumed exactly at iteration 2' in log, log[-3000:]
    final = safe_load(osp.join(folder, 'ckpt_0004.pth'))['state_dict']
    ref = safe_load(uninterrupted)['state_dict']
    assert final.keys() == ref.keys()
    for k, v in ref.items():
        assert torch.equal(v, final[k]), k
