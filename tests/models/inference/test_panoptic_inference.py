"""General (panoptic) inference on hand-built tensors."""
import math

import torch

import mmmaskformer  # noqa: F401
from mmmaskformer.models.inference import assign_pixels, filter_queries, panoptic_inference

K = 3  # classes 0, 1 are things, 2 is stuff; logits index 3 = no object
THINGS = (0, 1)


def cls_row(label, p):
    """Logits whose softmax puts probability p on ``label`` and spreads the
    rest evenly over the other K classes."""
    row = torch.full((K + 1, ), math.log((1 - p) / K))
    row[label] = math.log(p)
    return row


def mask(*cells, size=4):
    """Mask logits +10 on the listed (y, x) cells, -10 elsewhere."""
    m = torch.full((size, size), -10.0)
    for y, x in cells:
        m[y, x] = 10.0
    return m


LEFT = [(y, x) for y in range(4) for x in range(2)]
TOP_RIGHT = [(y, x) for y in range(2) for x in range(2, 4)]
BOTTOM_RIGHT = [(y, x) for y in range(2, 4) for x in range(2, 4)]


def test_filter_threshold_is_strict_and_drops_no_object():
    cls = torch.stack([cls_row(0, 0.9), cls_row(1, 0.8), cls_row(K, 0.95),
                       cls_row(2, 0.81)])
    kept = filter_queries(cls, torch.zeros(4, 2, 2), 0.8)
    assert kept.index.tolist() == [0, 3]  # 0.8 is not > 0.8; no-object out
    assert kept.labels.tolist() == [0, 2]
    torch.testing.assert_close(kept.scores, torch.tensor([0.9, 0.81]))


def test_assign_pixels_argmax_of_score_times_mask():
    scores = torch.tensor([0.9, 0.5])
    logits = torch.stack([torch.zeros(1, 2), torch.tensor([[10.0, -10.0]])])
    # pixel 0: 0.9*0.5=0.45 vs 0.5*~1=0.5 -> query 1; pixel 1: 0.45 vs ~0
    assert assign_pixels(scores, logits).tolist() == [[1, 0]]


def test_stuff_merge_thing_ids_and_void():
    cls = torch.stack([
        cls_row(0, 0.95),  # thing, left half
        cls_row(2, 0.9),  # stuff, top right
        cls_row(2, 0.85),  # same stuff class, bottom right -> merged
        cls_row(K, 0.9),  # no object
    ])
    masks = torch.stack([mask(*LEFT), mask(*TOP_RIGHT), mask(*BOTTOM_RIGHT),
                         mask(*LEFT)])
    r = panoptic_inference(cls, masks, THINGS, 0.8, 0.8)
    assert r.segments_info == [
        dict(id=1, isthing=True, category_id=0),
        dict(id=2, isthing=False, category_id=2),
    ]
    assert r.panoptic_seg.tolist() == [[1, 1, 2, 2]] * 4


def test_two_instances_of_one_thing_class_get_separate_ids():
    cls = torch.stack([cls_row(1, 0.9), cls_row(1, 0.9)])
    masks = torch.stack([mask(*LEFT), mask(*TOP_RIGHT)])
    r = panoptic_inference(cls, masks, THINGS, 0.5, 0.5)
    assert [s['id'] for s in r.segments_info] == [1, 2]
    assert all(s['category_id'] == 1 for s in r.segments_info)
    # pixels no mask claims still go to the argmax (here a tie of equal
    # scores: the first query), as in the official code
    assert r.panoptic_seg.tolist() == [[1, 1, 2, 2], [1, 1, 2, 2],
                                       [1, 1, 1, 1], [1, 1, 1, 1]]


def test_overlap_rule_drops_a_buried_segment():
    # query 1 wants the left half (8 px) but query 0 (higher score) wins 6
    # of them: 2/8 = 0.25 < 0.8 -> dropped, its 2 pixels stay void (0);
    # at overlap threshold 0.2 it is kept. Query 0 also wins the unclaimed
    # right half (higher score): 6 + 8 = 14 pixels.
    cls = torch.stack([cls_row(0, 0.95), cls_row(1, 0.85)])
    buried = mask(*LEFT)
    winner = mask(*[(y, x) for y in range(3) for x in range(2)])
    masks = torch.stack([winner, buried])
    r = panoptic_inference(cls, masks, THINGS, 0.5, 0.8)
    assert r.segments_info == [dict(id=1, isthing=True, category_id=0)]
    assert r.panoptic_seg[3, :2].tolist() == [0, 0]
    assert int((r.panoptic_seg == 1).sum()) == 14
    r = panoptic_inference(cls, masks, THINGS, 0.5, 0.2)
    assert [s['category_id'] for s in r.segments_info] == [0, 1]
    assert r.panoptic_seg[3, :2].tolist() == [2, 2]


def test_empty_prediction():
    cls = torch.stack([cls_row(K, 0.9), cls_row(0, 0.3)])
    r = panoptic_inference(cls, torch.stack([mask(*LEFT)] * 2), THINGS, 0.8,
                           0.8)
    assert r.segments_info == []
    assert r.panoptic_seg.dtype == torch.int32
    assert not r.panoptic_seg.any()


def test_empty_mask_is_skipped_without_an_entry():
    # kept by score, but sigmoid >= 0.5 nowhere -> original area 0 -> skipped
    cls = torch.stack([cls_row(0, 0.9), cls_row(2, 0.9)])
    masks = torch.stack([mask(), mask(*LEFT)])
    masks[0] += 9.0  # -1 everywhere: wins the right half, sigmoid < 0.5
    r = panoptic_inference(cls, masks, THINGS, 0.5, 0.5)
    assert r.segments_info == [dict(id=1, isthing=False, category_id=2)]
    assert r.panoptic_seg[:, 2:].eq(0).all()


def test_label_ids_to_fuse_replaces_the_stuff_rule():
    """HF's label_ids_to_fuse: the listed classes merge (a thing too), the
    others, stuff included, keep one segment per query."""
    cls = torch.stack([cls_row(1, 0.9), cls_row(1, 0.9), cls_row(2, 0.9),
                       cls_row(2, 0.9)])
    masks = torch.stack([mask(*LEFT[:4]), mask(*TOP_RIGHT),
                         mask(*LEFT[4:]), mask(*BOTTOM_RIGHT)])
    default = panoptic_inference(cls, masks, THINGS, 0.5, 0.5)
    # default: the two thing queries apart, the two stuff queries merged
    assert [(s['id'], s['category_id']) for s in default.segments_info] == [
        (1, 1), (2, 1), (3, 2)]
    fused = panoptic_inference(cls, masks, THINGS, 0.5, 0.5,
                               label_ids_to_fuse=[1])
    # fusing class 1 only: the things merge, the stuff queries stay apart
    assert [(s['id'], s['category_id'], s['isthing'])
            for s in fused.segments_info] == [(1, 1, True), (2, 2, False),
                                              (3, 2, False)]
    assert fused.panoptic_seg.tolist() == [[1, 1, 1, 1], [1, 1, 1, 1],
                                           [2, 2, 3, 3], [2, 2, 3, 3]]
