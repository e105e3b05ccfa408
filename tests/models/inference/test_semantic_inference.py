"""The three semantic inference strategies of Table 5 on hand-built inputs."""
import itertools
import math

import pytest
import torch
import torch.nn.functional as F

import mmmaskformer  # noqa: F401
from mmmaskformer.models.inference import (
    general_semantic_inference,
    iterative_semantic_inference,
    probabilistic_semantic_inference,
)
from mmmaskformer.models.inference.semantic import SEMANTIC_INFERENCE
from mmmaskformer.structures import MaskFormerOutput

BIG = 50.0  # sigmoid(+-50) is 1 / 2e-22: masks are on or off
S = 1 / (1 + math.exp(BIG))  # sigmoid(-50)


def logits(*probs):
    """Class logits whose softmax is exactly ``probs`` (last = no object)."""
    return torch.log(torch.tensor(probs, dtype=torch.float64)).float()


def masks(*rows):
    return (torch.tensor(rows, dtype=torch.float32)[:, None, :] * 2 - 1) * BIG


# K = 2 classes; 1 x 3 pixels
CLS = torch.stack([
    logits(0.5, 0.1, 0.4),  # q0: class 0, score 0.5
    logits(0.25, 0.2, 0.55),  # q1: top is no-object
    logits(0.1, 0.6, 0.3),  # q2: class 1, score 0.6
])
MASKS = masks([1, 0, 0], [1, 1, 1], [0, 0, 1])


def test_probabilistic_hand_computed():
    scores = probabilistic_semantic_inference(CLS, MASKS)
    # x0: c0 = .5 + .25, c1 = .1 + .2; x1: c0 = .25, c1 = .2;
    # x2: c0 = .25 + .1, c1 = .2 + .6
    expected = torch.tensor([[[0.75, 0.25, 0.35]], [[0.30, 0.20, 0.80]]])
    torch.testing.assert_close(scores, expected, atol=1e-6, rtol=0)
    assert scores.argmax(0).tolist() == [[0, 0, 1]]


def test_general_hand_computed():
    scores = general_semantic_inference(CLS, MASKS, score_threshold=0.3)
    # q1 is dropped (no-object); x1 is claimed by no mask and goes to the
    # kept query with the larger score (q2: 0.6 > 0.5) -> class 1
    expected = torch.tensor([[[0.5, 0.5 * S, 0.5 * S]],
                             [[0.6 * S, 0.6 * S, 0.6]]])
    torch.testing.assert_close(scores, expected, atol=1e-6, rtol=1e-5)
    assert scores.argmax(0).tolist() == [[0, 1, 1]]
    # a threshold above q0's score leaves only q2: class 1 everywhere
    scores = general_semantic_inference(CLS, MASKS, score_threshold=0.55)
    assert scores.argmax(0).tolist() == [[1, 1, 1]]
    assert scores[0].abs().max() == 0
    # nothing kept: falls back to the probabilistic scores
    scores = general_semantic_inference(CLS, MASKS, score_threshold=0.9)
    torch.testing.assert_close(scores,
                               probabilistic_semantic_inference(CLS, MASKS))


def test_iterative_removes_masks_that_do_not_contribute():
    cls = torch.stack([
        logits(0.9, 0.05, 0.05),  # q0: class 0 on x0, x1
        logits(0.1, 0.8, 0.1),  # q1: class 1 on x2, x3
        logits(0.05, 0.5, 0.45),  # q2: class 1 on x0, x1, where class 0 wins
    ])
    m = masks([1, 1, 0, 0], [0, 0, 1, 1], [1, 1, 0, 0])
    prob = probabilistic_semantic_inference(cls, m)
    assert prob.argmax(0).tolist() == [[0, 0, 1, 1]]
    torch.testing.assert_close(prob[1, 0, 0], torch.tensor(0.55), atol=1e-6,
                               rtol=0)
    it = iterative_semantic_inference(cls, m, min_contribution=0.3)
    # q2 contributes 0 of its 2 pixels (< 0.3 * 2): removed; q0 and q1 keep
    # all of theirs. The scores are those of {q0, q1}.
    torch.testing.assert_close(it, probabilistic_semantic_inference(cls[:2],
                                                                    m[:2]))
    torch.testing.assert_close(it[1, 0, 0], torch.tensor(0.05), atol=1e-6,
                               rtol=0)
    assert it.argmax(0).tolist() == [[0, 0, 1, 1]]


def test_iterative_repeats_until_stable():
    cls = torch.stack([
        logits(0.6, 0.1, 0.3),  # qA: class 0 on every pixel
        logits(0.1, 0.4, 0.5),  # qB: class 1 on x0..x4
        logits(0.1, 0.35, 0.55),  # qC: class 1 on x1 and x5
    ])
    m = masks([1, 1, 1, 1, 1, 1], [1, 1, 1, 1, 1, 0], [0, 1, 0, 0, 0, 1])
    # round 1: x1 has c0 = .6 + .1 + .1 = .8 < c1 = .1 + .4 + .35 = .85,
    # every other pixel is class 0
    prob = probabilistic_semantic_inference(cls, m)
    assert prob.argmax(0).tolist() == [[0, 1, 0, 0, 0, 0]]
    # qB keeps 1 of its 5 pixels (< 1.5): removed; qC keeps 1 of 2: stays.
    # round 2 without qB: x1 turns to class 0, qC keeps 0 of 2: removed.
    # round 3: qA alone is stable.
    it = iterative_semantic_inference(cls, m)
    torch.testing.assert_close(it,
                               probabilistic_semantic_inference(cls[:1], m[:1]))
    assert it.argmax(0).tolist() == [[0] * 6]
    # a single removal round would have kept qC
    assert not torch.allclose(
        it, probabilistic_semantic_inference(cls[[0, 2]], m[[0, 2]]))


def strategy_scores(cls_logits, mask_logits, mode, **options):
    """The strategy's pure function, image by image: (B, K, H, W)."""
    return torch.stack([SEMANTIC_INFERENCE[mode](c, m, **options)
                        for c, m in zip(cls_logits, mask_logits)])


# a non-default threshold per strategy (the defaults are 0.3)
OPTIONS = dict(probabilistic={}, general=dict(score_threshold=0.6),
               iterative=dict(min_contribution=0.6))


@pytest.mark.parametrize('mode', ['probabilistic', 'general', 'iterative'])
def test_head_predict_with_each_strategy(mode, feats, tiny_head):
    """``test_cfg.semantic_inference`` picks the strategy and its threshold
    reaches it: on outputs where the three strategies, each at the default
    and at another threshold, give five different score maps, the head's
    scores are the chosen one's (the last layer's masks upsampled first);
    ``predict`` gives those scores for the head's own outputs."""
    head = tiny_head().eval()  # K = 3
    g = torch.Generator().manual_seed(3)  # seed checked: five results
    cls_logits = torch.randn(1, 2, 6, 4, generator=g) * 2  # (L, B, Q, K+1)
    mask_logits = torch.randn(1, 2, 6, 8, 8, generator=g) * 4
    outputs = MaskFormerOutput(torch.cat([cls_logits * 0, cls_logits]),
                               torch.cat([mask_logits * 0, mask_logits]))
    up = F.interpolate(mask_logits[-1], size=(16, 16), mode='bilinear',
                       align_corners=False)
    results = {}
    for m, options in OPTIONS.items():
        results[m, 'default'] = strategy_scores(cls_logits[-1], up, m)
        results[m, 'other'] = strategy_scores(cls_logits[-1], up, m,
                                              **options)
    results.pop(('probabilistic', 'other'))  # it has no threshold
    for a, b in itertools.combinations(results, 2):
        assert (results[a] - results[b]).abs().max() > 0.1, (a, b)
    cfg = dict(mode='whole', semantic_inference=mode)
    with torch.no_grad():
        scores = head.semantic_scores(outputs, (16, 16), cfg)
        scores_other = head.semantic_scores(outputs, (16, 16),
                                            dict(cfg, **OPTIONS[mode]))
    assert scores.shape == (2, 3, 16, 16)
    torch.testing.assert_close(scores, results[mode, 'default'], rtol=0,
                               atol=1e-6)
    torch.testing.assert_close(
        scores_other, results.get((mode, 'other'), results[mode, 'default']),
        rtol=0, atol=1e-6)
    # predict: the same scores from the head's own outputs
    with torch.no_grad():
        head.cls_embed.weight.mul_(5)  # confident: 'general' keeps queries
    metas = [dict(img_shape=(32, 32), pad_shape=(32, 32))] * 2
    x = feats()
    with torch.no_grad():
        predicted = head.predict(x, metas, cfg)
        assert torch.equal(predicted,
                           head.semantic_scores(head(x), (32, 32), cfg))
        probabilistic = head.predict(x, metas, dict(mode='whole'))
    if mode == 'general':  # differs on this head's outputs too
        assert (predicted - probabilistic).abs().max() > 0.1
