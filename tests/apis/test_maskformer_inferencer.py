"""mmmaskformer.apis.MaskFormerInferencer: the three tasks of the demo
models (trained weights are not needed: the checks are identities and
invariants that hold for any weights). The demos, and the documented
snippet, run as fresh processes in test_fresh_process.py."""
import json
import os.path as osp

import cv2
import numpy as np
import pytest
import torch
from mmengine.config import Config
from mmengine.registry import init_default_scope

import mmmaskformer  # noqa: F401
from mmmaskformer.apis import MaskFormerInferencer
from mmmaskformer.datasets import generate_synthetic_dataset

REPO = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
SEMANTIC = 'maskformer_r18-tiny_synthetic-64x64'
PANOPTIC = 'maskformer_r18-tiny_synthetic-panoptic-64x64'
# the same inferencer for Mask2Former's demo configs
M2F_SEMANTIC = 'mask2former_r18-tiny_synthetic-64x64'
M2F_PANOPTIC = 'mask2former_r18-tiny_synthetic-panoptic-64x64'


def _checkpoint(tmp_path, name):
    from mmmaskformer.registry import MODELS
    cfg = Config.fromfile(osp.join(REPO, 'configs', name + '.py'))
    init_default_scope('mmmaskformer')
    torch.manual_seed(0)
    path = str(tmp_path / f'{name}.pth')
    torch.save(dict(state_dict=MODELS.build(cfg.model).state_dict(),
                    meta=dict()), path)
    return path


@pytest.fixture(scope='module')
def images(tmp_path_factory):
    root = generate_synthetic_dataset(
        str(tmp_path_factory.mktemp('syn')), num_train=1, num_val=2,
        progress=False)
    return osp.join(root, 'img_dir', 'val')


@pytest.mark.parametrize('name', [SEMANTIC, M2F_SEMANTIC])
def test_semantic_equals_the_model_prediction(tmp_path, images, name):
    from mmseg.apis import inference_model, init_model
    ckpt = _checkpoint(tmp_path, name)
    inferencer = MaskFormerInferencer(name, ckpt, device='cpu')
    assert inferencer.default_task == 'semantic'
    path = osp.join(images, '00000.png')
    array = cv2.imread(path)
    out = inferencer([path, array], out_dir=str(tmp_path / 'out'))
    # mmseg's reference reads `test_pipeline` with its own loader and no
    # annotations (its inference_model drops only mmseg's LoadAnnotations)
    cfg = Config.fromfile(osp.join(REPO, 'configs', name + '.py'))
    cfg.test_pipeline = [dict(type='LoadImageFromFile'),
                         dict(type='PackSegInputs')]
    model = init_model(cfg, ckpt, device='cpu')
    ref = inference_model(model, path).pred_sem_seg.data[0].numpy()
    for pred in out['predictions']:  # the path and the array alike
        assert np.array_equal(pred['sem_seg'], ref)
    written = cv2.imread(str(tmp_path / 'out' / 'preds' / '00000.png'),
                         cv2.IMREAD_UNCHANGED)
    assert np.array_equal(written, ref)
    assert osp.isfile(tmp_path / 'out' / 'vis' / '00000.png')
    assert osp.isfile(tmp_path / 'out' / 'vis' / '00000001.png')  # array
    with pytest.raises(ValueError, match='needs a panoptic config'):
        inferencer(path, task='instance')
    # a folder is every image in it
    assert len(inferencer(images)['predictions']) == 2


@pytest.mark.slow
def test_semantic_equals_tools_test_out_files(tmp_path, data_options,
                                              run_tool):
    """The inferencer's label map of every val image equals the PNG that
    `tools/test.py --out` wrote for it (the evaluated prediction)."""
    import glob
    root = generate_synthetic_dataset(str(tmp_path / 'syn'), num_train=1,
                                      num_val=3, progress=False)
    ckpt = _checkpoint(tmp_path, SEMANTIC)
    out = tmp_path / 'out'
    run_tool([osp.join(REPO, 'tools', 'test.py'),
              osp.join(REPO, 'configs', SEMANTIC + '.py'), ckpt, '--out',
              str(out), '--work-dir', str(tmp_path / 'work'),
              '--cfg-options', *data_options(root, 1)])
    written = sorted(glob.glob(str(out / '*.png')))
    assert [osp.basename(f) for f in written] == [
        '00000.png', '00001.png', '00002.png']
    inferencer = MaskFormerInferencer(SEMANTIC, ckpt, device='cpu')
    preds = inferencer(osp.join(root, 'img_dir', 'val'))['predictions']
    assert len(preds) == 3
    for f, pred in zip(written, preds):
        label = cv2.imread(f, cv2.IMREAD_UNCHANGED)
        assert label.shape == (64, 64)
        assert np.array_equal(pred['sem_seg'], label), f
    # not a constant map: the comparison could fail
    assert len(np.unique(np.stack([p['sem_seg'] for p in preds]))) >= 2


@pytest.mark.parametrize('name', [PANOPTIC, M2F_PANOPTIC])
def test_panoptic_and_instance_outputs(tmp_path, images, name):
    ckpt = _checkpoint(tmp_path, name)
    inferencer = MaskFormerInferencer(name, ckpt, device='cpu')
    assert inferencer.default_task == 'panoptic'
    path = osp.join(images, '00000.png')
    # random weights are never confident: keep every query
    out = inferencer(path, threshold=0.0, overlap_mask_area_threshold=0.0,
                     out_dir=str(tmp_path / 'pan'))
    pred = out['predictions'][0]
    seg, info = pred['panoptic_seg'], pred['segments_info']
    assert seg.shape == (64, 64) and len(info) >= 1
    # ids in the map are exactly the listed ones (plus void 0)
    assert set(np.unique(seg)) - {0} == {s['id'] for s in info}
    things = set(range(3))
    for s in info:
        assert s['isthing'] == (s['category_id'] in things)
    # stuff classes appear once (merged), the default fusing rule
    stuff = [s['category_id'] for s in info if not s['isthing']]
    assert len(stuff) == len(set(stuff))
    saved = json.loads((tmp_path / 'pan' / 'preds' / '00000.json')
                       .read_text())
    assert saved['segments_info'] == info
    png = cv2.imread(str(tmp_path / 'pan' / 'preds' / '00000.png'))[..., ::-1]
    ids = png[..., 0] + 256 * png[..., 1].astype(int)
    assert np.array_equal(ids, seg)
    # the config's thresholds are back after the call
    assert inferencer.model.test_cfg['object_mask_threshold'] == 0.8

    # fusing every class: one segment per class at most
    fused = inferencer(path, threshold=0.0, overlap_mask_area_threshold=0.0,
                       label_ids_to_fuse=range(6))['predictions'][0]
    labels = [s['category_id'] for s in fused['segments_info']]
    assert len(labels) == len(set(labels))

    inst = inferencer(path, task='instance', return_rle=True,
                      out_dir=str(tmp_path / 'inst'))['predictions'][0]
    if name == PANOPTIC:  # MaskFormer: k = queries
        assert len(inst['masks']) == len(inst['labels']) == 20
    else:  # Mask2Former: the thing pairs of the top 100 of 20 x 6
        assert 0 < len(inst['masks']) == len(inst['labels']) <= 100
    assert ((inst['scores'] >= 0) & (inst['scores'] <= 1)).all()
    assert set(inst['labels'].tolist()) <= things
    from pycocotools import mask as mask_utils
    m = mask_utils.decode(dict(inst['masks'][0],
                               counts=inst['masks'][0]['counts'].encode()))
    assert m.shape == (64, 64) and set(np.unique(m)) <= {0, 1}
    plain = inferencer(path, task='instance',
                       mask_threshold=0.9)['predictions'][0]
    assert plain['masks'].dtype == bool
    assert osp.isfile(tmp_path / 'inst' / 'vis' / '00000.png')
    semantic = inferencer(path, task='semantic')['predictions'][0]
    assert semantic['sem_seg'].shape == (64, 64)
    assert semantic['sem_seg'].max() < 6
