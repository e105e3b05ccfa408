"""OpenMIM: `mim search mmmaskformer` lists our configs from the package's
.mim/model-index.yml, `mim train mmmaskformer <config>` trains through our
tools/train.py and `mim test` scores through tools/test.py, both after the
editable development install (tools/install.sh) and after a wheel install;
the metafiles cover every config with the README's model-zoo numbers."""
import glob
import os.path as osp
import re
import shutil
import subprocess
import sys

import pytest
import yaml

from mmmaskformer.datasets import generate_synthetic_dataset

REPO = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))



def _models():
    index = yaml.safe_load(open(osp.join(REPO, 'model-index.yml')))
    models = []
    for path in index['Import']:
        models += yaml.safe_load(open(osp.join(REPO, path)))['Models']
    return models


def test_metafiles_cover_every_config_with_the_model_zoo_numbers():
    models = _models()
    configs = sorted(m['Config'] for m in models)
    assert configs == sorted(
        osp.relpath(p, REPO) for p in glob.glob(osp.join(REPO, 'configs',
                                                         '*.py')))
    for m in models:
        assert m['Name'] == osp.splitext(osp.basename(m['Config']))[0]
    readme = open(osp.join(REPO, 'configs', 'README.md')).read()
    for m in models:
        row = re.search(r'^\| `%s` \| [^|]+ \| ([\d.]+)' % re.escape(
            osp.basename(m['Config'])), readme, re.M)
        if m.get('Results'):
            assert row, f'{m["Name"]}: no model-zoo row in configs/README.md'
            (value, ) = m['Results'][0]['Metrics'].values()
            assert float(value) == float(row.group(1)), m['Name']


@pytest.fixture(scope='module')
def wheel_env(tmp_path_factory, tool_env):
    """This repository installed as a wheel (``.mim`` copied in, as
    ``setup.py`` does for wheels) into a fresh virtual environment that
    sees the current one's packages."""
    tmp = tmp_path_factory.mktemp('mim')
    src = tmp / 'src'
    for name in ('mmmaskformer', 'configs', 'tools', 'demo', 'requirements'):
        shutil.copytree(osp.join(REPO, name), src / name, symlinks=False,
                        ignore=shutil.ignore_patterns('__pycache__', '.mim'))
    for name in ('setup.py', 'README.md', 'model-index.yml'):
        shutil.copy(osp.join(REPO, name), src / name)
    venv = tmp / 'venv'
    subprocess.run([sys.executable, '-m', 'venv', '--without-pip',
                    str(venv)], check=True, timeout=120)
    python = str(venv / 'bin' / 'python')
    site = subprocess.run([python, '-c', 'import site; print('
                           'site.getsitepackages()[0])'], check=True,
                          capture_output=True, text=True).stdout.strip()
    parent = subprocess.run([sys.executable, '-c', 'import site; print('
                             'site.getsitepackages()[0])'], check=True,
                            capture_output=True, text=True).stdout.strip()
    with open(osp.join(site, 'parent_env.pth'), 'w') as f:
        f.write(parent + '\n')
    proc = subprocess.run(
        [python, '-m', 'pip', 'install', '-q', '--no-deps',
         '--no-build-isolation', '--target', site, str(src)],
        capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stderr[-2000:]
    assert osp.isfile(osp.join(site, 'mmmaskformer', '.mim', 'tools',
                               'train.py'))
    # the inferencer's model names come from the installed .mim/configs
    config_dir = subprocess.run(
        [python, '-c', 'from mmmaskformer.apis.inferencer import CONFIG_DIR;'
         ' print(CONFIG_DIR)'], check=True, capture_output=True, text=True,
        cwd=str(tmp), env=tool_env()).stdout.strip()
    assert config_dir == osp.join(site, 'mmmaskformer', '.mim', 'configs')
    return python


@pytest.fixture(scope='module')
def mim(tool_env):
    """``mim(python, *args, **kwargs)``: run the mim CLI of ``python``."""
    def mim(python, *args, **kwargs):
        return subprocess.run(
            [python, '-c', 'import sys; from mim.cli import cli; '
             'sys.argv = ["mim"] + sys.argv[1:]; cli()', *args],
            capture_output=True, text=True, env=tool_env(), **kwargs)
    return mim


def _assert_lists_our_configs(proc):
    assert proc.returncode == 0, proc.stderr[-2000:]
    for name in ('maskformer_r50_ade20k', 'maskformer_swin-l_coco-panoptic',
                 'maskformer_r18-tiny_synthetic-64x64',
                 'mask2former_r50_coco-panoptic',
                 'mask2former_r18-tiny_synthetic-64x64'):
        assert f'config id: {name}\n' in proc.stdout
    assert 'maskformer_R101_bs16_90k' in proc.stdout  # the weights to convert


@pytest.mark.slow
def test_mim_search_lists_our_configs(wheel_env, mim):
    _assert_lists_our_configs(mim(wheel_env, 'search', 'mmmaskformer',
                                  timeout=300))


@pytest.mark.slow
def test_mim_finds_the_editable_install(mim):
    """tools/install.sh's editable install: mim finds the package (through
    the link tools/misc/mim_link.py puts in site-packages) at this
    checkout, and searches it."""
    found = subprocess.run(
        [sys.executable, '-c', 'from mim.utils import get_installed_path; '
         'print(get_installed_path("mmmaskformer"))'], check=True,
        capture_output=True, text=True, cwd='/').stdout.strip()
    assert osp.realpath(found) == osp.join(osp.realpath(REPO),
                                           'mmmaskformer'), \
        f'mim finds {found}: run tools/install.sh for this checkout'
    _assert_lists_our_configs(mim(sys.executable, 'search', 'mmmaskformer',
                                  timeout=300, cwd='/'))


@pytest.fixture(scope='module')
def mim_run(wheel_env, tmp_path_factory, mim, data_options):
    """A 2-iteration `mim train` of the demo config in the wheel install."""
    tmp = tmp_path_factory.mktemp('mim-train')
    root = generate_synthetic_dataset(str(tmp / 'syn'), num_train=8,
                                      num_val=2, progress=False)
    proc = mim(wheel_env, 'train', 'mmmaskformer',
               'maskformer_r18-tiny_synthetic-64x64.py', '--work-dir',
               str(tmp / 'run'), '--cfg-options',
               *data_options(root, 2, ckpt_interval=2), timeout=600,
               cwd=tmp)
    return root, tmp, proc


@pytest.mark.slow
def test_mim_train_trains_the_demo_config(mim_run):
    _, tmp, proc = mim_run
    assert proc.returncode == 0, (proc.stdout[-2000:], proc.stderr[-2000:])
    assert osp.isfile(tmp / 'run' / 'iter_2.pth')
    assert 'Iter(train) [2/2]' in proc.stdout + proc.stderr


@pytest.mark.slow
def test_mim_train_trains_the_mask2former_demo_config(mim_run, wheel_env,
                                                      mim, data_options):
    """The same in the wheel install with Mask2Former's demo config: its
    modules resolve from the installed package."""
    root, tmp, _ = mim_run
    proc = mim(wheel_env, 'train', 'mmmaskformer',
               'mask2former_r18-tiny_synthetic-64x64.py', '--work-dir',
               str(tmp / 'run-m2f'), '--cfg-options',
               *data_options(root, 2, ckpt_interval=2), timeout=600,
               cwd=tmp)
    assert proc.returncode == 0, (proc.stdout[-2000:], proc.stderr[-2000:])
    assert osp.isfile(tmp / 'run-m2f' / 'iter_2.pth')
    assert 'loss_mask_2' in proc.stdout + proc.stderr  # its deep supervision


def _miou(log):
    (value, ) = re.findall(r'Iter\(test\) \[\d+/\d+\].*?mIoU: ([\d.]+)', log)
    return float(value)


@pytest.mark.slow
def test_mim_test_scores_the_checkpoint_as_tools_test(mim_run, tmp_path, mim,
                                                       data_options,
                                                       run_tool):
    """`mim test mmmaskformer CONFIG --checkpoint CKPT` (editable install)
    loads the checkpoint and gives the mIoU that tools/test.py gives."""
    root, tmp, _ = mim_run
    ckpt = str(tmp / 'run' / 'iter_2.pth')
    assert osp.isfile(ckpt)
    options = ['--cfg-options', *data_options(root, 2)]
    proc = mim(sys.executable, 'test', 'mmmaskformer',
               'maskformer_r18-tiny_synthetic-64x64.py', '--checkpoint', ckpt,
               '--work-dir', str(tmp_path / 'mim'), *options, timeout=600,
               cwd=tmp_path)
    log = proc.stdout + proc.stderr
    assert proc.returncode == 0, log[-3000:]
    assert f'Load checkpoint from {ckpt}' in log
    direct = run_tool([osp.join(REPO, 'tools', 'test.py'),
                       osp.join(REPO, 'configs',
                                'maskformer_r18-tiny_synthetic-64x64.py'),
                       ckpt, '--work-dir', str(tmp_path / 'direct'),
                       *options])
    assert _miou(log) == _miou(direct)
