"""``tools/demo.py --model mask2former`` as a fresh process: the Mask2Former
demo trains and scores, and prints its number next to MaskFormer's on the
same data (the metafile's, which the model zoo lists)."""
import glob
import json
import os.path as osp

import pytest
import yaml

REPO = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))


def maskformer_demo_score(name):
    with open(osp.join(REPO, 'configs', 'metafiles', 'demo.yaml')) as f:
        (model, ) = [m for m in yaml.safe_load(f)['Models']
                     if m['Name'] == name]
    (value, ) = model['Results'][0]['Metrics'].values()
    return value


def metrics_of(test_dir):
    (path, ) = glob.glob(osp.join(test_dir, '*', '*.json'))
    with open(path) as f:
        return json.load(f)


@pytest.fixture(scope='module')
def data_root(tmp_path_factory):
    return str(tmp_path_factory.mktemp('demo_m2f') / 'synthetic')


@pytest.mark.slow
def test_instance_demo_trains_directly_and_prints_maskformers_score(
        tmp_path, data_root, run_tool):
    work = str(tmp_path / 'demo')
    out = run_tool(['tools/demo.py', '--model', 'mask2former', '--task',
                    'instance', '--iters', '2', '--work-dir', work,
                    '--data-root', data_root])
    with open(osp.join(work, 'summary.json')) as f:
        summary = json.load(f)
    assert summary['model'] == 'mask2former' and summary['iters'] == 2
    assert summary['segm_mAP'] == metrics_of(osp.join(work,
                                                      'test'))['coco/segm_mAP']
    reference = maskformer_demo_score(
        'maskformer_r18-tiny_synthetic-panoptic-instance-64x64')
    assert summary['maskformer_mask_AP'] == reference
    assert (f"[demo] Mask2Former mask AP {100 * summary['segm_mAP']:.1f}"
            in out)
    assert f'MaskFormer on the same data: mask AP {reference}' in out
    # trained on the instances (mmdet's CocoDataset), not on panoptic data
    # (the config the runner dumped into its work dir)
    dumped = glob.glob(osp.join(work, 'train', '**', '*.py'), recursive=True)
    with open(dumped[0]) as f:
        config = f.read()
    assert 'instances_train.json' in config and "'mmdet.CocoDataset'" in config


@pytest.mark.slow
def test_panoptic_demo_scores_pq_miou_and_ap_of_one_model(tmp_path,
                                                           data_root,
                                                           run_tool):
    work = str(tmp_path / 'demo')
    out = run_tool(['tools/demo.py', '--model', 'mask2former', '--task',
                    'panoptic', '--iters', '2', '--work-dir', work,
                    '--data-root', data_root])
    with open(osp.join(work, 'summary.json')) as f:
        summary = json.load(f)
    assert summary['PQ'] == metrics_of(osp.join(work,
                                                'test'))['coco_panoptic/PQ']
    assert summary['mIoU'] == metrics_of(osp.join(work,
                                                  'test-semantic'))['mIoU']
    assert summary['segm_mAP'] == metrics_of(
        osp.join(work, 'test-instance'))['coco/segm_mAP']
    reference = maskformer_demo_score(
        'maskformer_r18-tiny_synthetic-panoptic-64x64')
    assert f'MaskFormer on the same data: PQ {reference}' in out
    assert f"the same model: mIoU {summary['mIoU']:.2f}" in out
