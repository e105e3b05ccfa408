import os
import os.path as osp
import re
import shutil
import sys
import warnings

from setuptools import find_packages, setup

MIM_FILES = ('configs', 'tools', 'demo', 'model-index.yml')


def add_mim_extension():
    """Put configs/, tools/, demo/ and model-index.yml into
    ``mmmaskformer/.mim`` for OpenMIM, as mmseg's setup.py does: symbolic
    links for a develop/editable install, copies for a wheel or sdist."""
    if 'develop' in sys.argv or 'editable_wheel' in sys.argv:
        mode = 'symlink'
    elif any(c in sys.argv for c in ('sdist', 'bdist_wheel', 'build')):
        mode = 'copy'
    else:
        return
    repo = osp.dirname(osp.abspath(__file__))
    mim = osp.join(repo, 'mmmaskformer', '.mim')
    os.makedirs(mim, exist_ok=True)
    for name in MIM_FILES:
        src, dst = osp.join(repo, name), osp.join(mim, name)
        if osp.islink(dst) or osp.isfile(dst):
            os.remove(dst)
        elif osp.isdir(dst):
            shutil.rmtree(dst)
        if mode == 'symlink':
            try:
                os.symlink(osp.relpath(src, mim), dst)
                continue
            except OSError:
                warnings.warn(f'cannot link {dst}; copying it')
        if osp.isdir(src):
            shutil.copytree(src, dst)
        else:
            shutil.copyfile(src, dst)


def read_requirements(name):
    """The requirement lines of requirements/<name>.txt."""
    path = osp.join(osp.dirname(osp.abspath(__file__)), 'requirements',
                    f'{name}.txt')
    with open(path) as f:
        return [
            line.strip() for line in f
            if line.strip() and not line.startswith('#')
        ]


def read_version():
    """The one version string, in mmmaskformer/version.py (read as text:
    setup.py must not import the package)."""
    with open(osp.join(osp.dirname(osp.abspath(__file__)), 'mmmaskformer',
                       'version.py')) as f:
        return re.search(r"__version__ = '([^']+)'", f.read()).group(1)


add_mim_extension()
setup(
    name='mmmaskformer',
    version=read_version(),
    description='MaskFormer as an OpenMMLab 2.0 plugin',
    long_description=open('README.md').read(),
    long_description_content_type='text/markdown',
    packages=find_packages(exclude=('tests', 'tests.*', 'configs', 'tools')),
    package_data={'mmmaskformer.datasets': ['*.json'],
                  'mmmaskformer': ['.mim/model-index.yml', '.mim/configs/**/*',
                                   '.mim/tools/**/*', '.mim/demo/*']},
    include_package_data=True,
    python_requires='>=3.9',
    # mmcv must be built from source with ops (tools/install.sh); torch comes
    # first. The ranges are in requirements/install.txt, the tested pins in
    # the other files of requirements/.
    install_requires=read_requirements('install'),
    extras_require={
        'tests': read_requirements('tests'),
        'mim': read_requirements('mim'),
        'onnx': read_requirements('onnx'),
    },
    zip_safe=False)
