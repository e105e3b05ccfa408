from setuptools import find_packages, setup


def read_requirements(path):
    with open(path) as f:
        return [
            line.strip() for line in f
            if line.strip() and not line.startswith('#')
        ]


setup(
    name='mmmaskformer',
    version='0.1.0',
    description='MaskFormer as an OpenMMLab 2.0 plugin',
    long_description=open('README.md').read(),
    long_description_content_type='text/markdown',
    packages=find_packages(exclude=('tests', 'tests.*', 'configs', 'tools')),
    package_data={'mmmaskformer.datasets': ['*.json']},
    python_requires='>=3.9',
    # mmcv must be built from source with ops (tools/install.sh); torch comes
    # first. The full pinned set is in requirements/.
    install_requires=[
        'mmengine>=0.10,<0.11', 'mmsegmentation>=1.2,<1.3', 'mmdet>=3.3,<3.4',
        'scipy', 'timm', 'pycocotools', 'panopticapi-lite'
    ],
    zip_safe=False)
