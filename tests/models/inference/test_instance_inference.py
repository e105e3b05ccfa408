"""Instance masks from the panoptic model: the top-k (query, thing class)
pairs, scored by class probability x mean mask probability inside the
binary mask (Mask2Former / HF rule)."""
import math
import os.path as osp

import pytest
import torch

import mmmaskformer  # noqa: F401
from mmmaskformer.models.inference import instance_inference

REPO = osp.dirname(osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__)))))


def logits_of(*probs):
    return torch.tensor([[math.log(p) for p in row] for row in probs])


def test_top_k_over_thing_pairs_with_hand_computed_scores():
    # classes 0, 1 are things, 2 is stuff, 3 = no object
    cls = logits_of([0.6, 0.2, 0.1, 0.1], [0.1, 0.3, 0.4, 0.2])
    ln = math.log
    masks = torch.tensor([
        [[ln(3), ln(1 / 3)], [ln(9), 0.0]],  # in-mask sigmoid 0.75, 0.9
        [[ln(4), ln(4)], [ln(4), -5.0]],  # in-mask sigmoid 0.8 x 3
    ])
    res = instance_inference(cls, masks, thing_classes=[0, 1])
    # k = Q = 2: (q0, c0) 0.6 and (q1, c1) 0.3; the stuff pair (q1, c2) 0.4
    # is never a candidate
    assert res.labels.tolist() == [0, 1]
    torch.testing.assert_close(res.scores, torch.tensor([0.6 * 0.825,
                                                         0.3 * 0.8]),
                               rtol=1e-5, atol=0)
    assert res.masks.dtype == torch.bool
    # logit 0 is sigmoid 0.5: not in the mask (strictly above 0.5)
    assert res.masks[0].tolist() == [[True, False], [True, False]]
    assert res.masks[1].tolist() == [[True, True], [True, False]]
    # a third instance: the same query q0 as class 1, with q0's mask
    res3 = instance_inference(cls, masks, [0, 1], max_per_image=3)
    assert res3.labels.tolist() == [0, 1, 1]
    torch.testing.assert_close(res3.scores[2], torch.tensor(0.2 * 0.825),
                               rtol=1e-5, atol=0)
    assert torch.equal(res3.masks[2], res3.masks[0])
    # an empty binary mask scores 0, whatever its class probability
    empty = instance_inference(cls, torch.full((2, 2, 2), -3.0), [0, 1])
    assert empty.scores.abs().max() < 1e-6
    with pytest.raises(ValueError, match='thing classes'):
        instance_inference(cls, masks, [0, 3])


def test_panoptic_model_writes_pred_instances():
    from mmdet.structures import DetDataSample
    from mmengine.config import Config
    from mmengine.registry import init_default_scope

    from mmmaskformer.registry import MODELS
    cfg = Config.fromfile(osp.join(
        REPO, 'configs', 'maskformer_r18-tiny_synthetic-panoptic-64x64.py'))
    cfg.model.test_cfg.update(instance_on=True)
    init_default_scope('mmmaskformer')
    torch.manual_seed(0)
    model = MODELS.build(cfg.model).eval()
    samples = [DetDataSample(metainfo=dict(img_shape=(64, 48),
                                           ori_shape=(128, 96),
                                           batch_input_shape=(64, 64)))]
    with torch.no_grad():
        out = model.predict(torch.randn(1, 3, 64, 64), samples)[0]
    inst = out.pred_instances
    num_queries = cfg.model.panoptic_head.transformer_decoder.num_queries
    assert len(inst) == num_queries  # k = Q by default
    assert inst.masks.dtype == torch.bool
    assert inst.masks.shape[1:] == (128, 96)  # the original size
    assert ((inst.scores >= 0) & (inst.scores <= 1)).all()
    assert (inst.scores[:-1] >= inst.scores[1:]).all()
    assert set(inst.labels.tolist()) <= set(range(cfg.model.num_things))
    # boxes enclose the masks
    for m, box in zip(inst.masks, inst.bboxes):
        if m.any():
            ys, xs = torch.nonzero(m, as_tuple=True)
            assert box.tolist() == [xs.min().item(), ys.min().item(),
                                    xs.max().item() + 1, ys.max().item() + 1]
    assert 'pred_panoptic_seg' in out  # the panoptic output is still there
