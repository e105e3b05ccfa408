"""README command 1 (``tools/demo.sh`` runs ``tools/demo.py``) as a fresh
process: generate the demo data, train, score, and compare with the
trivial baselines, whose values the README states."""
import glob
import json
import os.path as osp

import pytest


def _latest_metrics(test_dir):
    (path, ) = glob.glob(osp.join(test_dir, '*', '*.json'))
    with open(path) as f:
        return json.load(f)


@pytest.fixture(scope='module')
def data_root(tmp_path_factory):
    # the demo generates its data itself; one folder for both tests
    return str(tmp_path_factory.mktemp('demo') / 'synthetic')


@pytest.mark.slow
def test_demo_trains_and_scores_the_semantic_model(tmp_path, data_root,
                                                    run_tool):
    work = str(tmp_path / 'demo')
    out = run_tool(['tools/demo.py', '--iters', '2', '--work-dir', work,
                    '--data-root', data_root])
    with open(osp.join(work, 'summary.json')) as f:
        summary = json.load(f)
    # the score is tools/test.py's, and the baseline is the README's
    assert summary['mIoU'] == _latest_metrics(osp.join(work, 'test'))['mIoU']
    assert summary['majority_class_mIoU'] == 5.14
    assert summary['iters'] == 2
    assert osp.isfile(osp.join(work, 'train', 'iter_2.pth'))
    assert f"[demo] mIoU {summary['mIoU']:.2f} (majority-class baseline " \
        '5.14)' in out
    # the data is the full demo split: 300 train and 60 val images
    assert len(glob.glob(osp.join(data_root, 'img_dir', 'train', '*'))) == 300
    assert len(glob.glob(osp.join(data_root, 'img_dir', 'val', '*'))) == 60


@pytest.mark.slow
def test_demo_instance_scores_a_panoptic_checkpoint(tmp_path, data_root,
                                                     run_tool,
                                                     panoptic_options,
                                                     tiny_panoptic_config):
    from mmmaskformer.datasets import generate_synthetic_dataset
    generate_synthetic_dataset(data_root, progress=False)
    train = str(tmp_path / 'train')
    run_tool(['tools/train.py', tiny_panoptic_config, '--work-dir', train] +
             panoptic_options(data_root, 1))
    work = str(tmp_path / 'demo-instance')
    out = run_tool(['tools/demo.py', '--task', 'instance', '--checkpoint',
                    osp.join(train, 'iter_1.pth'), '--work-dir', work,
                    '--data-root', data_root])
    with open(osp.join(work, 'summary.json')) as f:
        summary = json.load(f)
    metrics = _latest_metrics(osp.join(work, 'test'))
    assert summary['segm_mAP'] == metrics['coco/segm_mAP']
    # the README's trivial prediction: every thing class once per image
    # as the whole image scores no AP
    assert summary['whole_image_mask_AP'] == 0.0
    assert 'whole-image baseline AP 0.0' in out
