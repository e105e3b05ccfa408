"""Parity beyond the golden files' easy case, by brute force.

The golden files have equal target counts per image and no padding. Here:
a batch whose images have 2, 0 and 3 targets of different sizes (padded to
the batch's largest, as the official ``nested_tensor_from_tensor_list``),
ignore pixels inside the label maps, and test images of other original
sizes whose padding must be cropped before the resize. Every reference is
written out plainly in this file: per pair focal and dice, every
permutation for the matching, per-pixel loops where they are short.
"""
import itertools
import os.path as osp

import torch
import torch.nn.functional as F
from mmengine.config import Config
from mmengine.registry import init_default_scope
from mmengine.structures import PixelData
from mmseg.structures import SegDataSample

import mmmaskformer  # noqa: F401
from mmmaskformer.models.losses.set_criterion import SetCriterion
from mmmaskformer.registry import MODELS
from mmmaskformer.structures import FlatMatches, MaskTargets

K, Q = 3, 4


REPO = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
TINY = osp.join(REPO, 'configs', 'maskformer_r18-tiny_synthetic-64x64.py')


def focal(x, t, alpha=0.25, gamma=2.0):
    """Mean over pixels of the sigmoid focal loss, from its definition."""
    p = torch.sigmoid(x)
    ce = -(t * torch.log(p) + (1 - t) * torch.log(1 - p))
    p_t = p * t + (1 - p) * (1 - t)
    a_t = alpha * t + (1 - alpha) * (1 - t)
    return (a_t * (1 - p_t)**gamma * ce).mean()


def dice(x, t):
    p = torch.sigmoid(x).flatten()
    t = t.flatten()
    return 1 - (2 * (p * t).sum() + 1) / (p.sum() + t.sum() + 1)


def brute_force_match(cls_logits, mask_logits, labels, masks_small):
    """Every assignment of the M targets to distinct queries; the cheapest."""
    m = len(labels)
    if m == 0:
        return [], []
    prob = cls_logits.softmax(-1)
    cost = torch.zeros(Q, m, dtype=torch.float64)
    for q in range(Q):
        for j in range(m):
            cost[q, j] = (-prob[q, labels[j]] + 20 * focal(
                mask_logits[q], masks_small[j]) + dice(mask_logits[q],
                                                       masks_small[j]))
    best = min(itertools.permutations(range(Q), m),
               key=lambda qs: sum(cost[q, j] for j, q in enumerate(qs)))
    pairs = sorted(zip(best, range(m)))
    return [q for q, _ in pairs], [j for _, j in pairs]


def make_batch():
    g = torch.Generator().manual_seed(3)
    sizes = [(16, 24), (20, 16), (12, 20)]  # target sizes (image sizes)
    counts = [2, 0, 3]
    targets = []
    for (h, w), n in zip(sizes, counts):
        labels = torch.randint(0, K, (n,), generator=g)
        masks = torch.rand(n, h, w, generator=g) > 0.6
        targets.append(MaskTargets(labels, masks))
    H, W = 20, 24  # the padded batch
    cls_logits = torch.randn(1, 3, Q, K + 1, generator=g)
    mask_logits = torch.randn(1, 3, Q, H // 4, W // 4, generator=g) * 2
    return cls_logits, mask_logits, targets, (H, W)


def test_losses_and_matching_on_an_uneven_padded_batch():
    cls_logits, mask_logits, targets, (H, W) = make_batch()
    criterion = SetCriterion(num_classes=K)
    matches = criterion.assigner.assign(cls_logits, mask_logits, targets)
    losses = criterion(cls_logits, mask_logits, targets, weighted=False)

    num_masks = sum(len(t.labels) for t in targets)  # 5
    focal_sum = dice_sum = 0.0
    target_classes = torch.full((3, Q), K)
    for b, t in enumerate(targets):
        # official: zero-pad each image's masks to the batch size
        padded = torch.zeros(len(t.labels), H, W)
        padded[:, :t.masks.shape[1], :t.masks.shape[2]] = t.masks.float()
        small = padded[:, ::4, ::4]  # nearest downsampling to stride 4
        qs, js = brute_force_match(cls_logits[0, b], mask_logits[0, b],
                                   t.labels, small)
        keep = matches.batch_idx == b
        assert matches.query_idx[keep].tolist() == qs
        offset = sum(len(u.labels) for u in targets[:b])
        assert (matches.target_idx[keep] - offset).tolist() == js
        for q, j in zip(qs, js):
            target_classes[b, q] = t.labels[j]
            up = F.interpolate(mask_logits[0, b, q][None, None], size=(H, W),
                               mode='bilinear', align_corners=False)[0, 0]
            focal_sum += focal(up, padded[j])
            dice_sum += dice(up, padded[j])
    weight = torch.ones(K + 1)
    weight[K] = 0.1
    nll = -cls_logits[0].log_softmax(-1).gather(
        -1, target_classes[..., None])[..., 0]
    w = weight[target_classes]
    ce = (w * nll).sum() / w.sum()  # the class-weighted mean over B*Q
    assert torch.allclose(losses['loss_ce'], ce, atol=1e-6)
    assert torch.allclose(losses['loss_mask'], focal_sum / num_masks,
                          atol=1e-6)
    assert torch.allclose(losses['loss_dice'], dice_sum / num_masks,
                          atol=1e-6)


def test_semantic_targets_leave_ignore_pixels_out_of_every_mask():
    init_default_scope('mmmaskformer')
    head = MODELS.build(Config.fromfile(TINY).model).decode_head
    gt = torch.tensor([[0, 0, 255, 3],
                       [255, 3, 3, 5],
                       [0, 255, 255, 5]])
    sample = SegDataSample()
    sample.gt_sem_seg = PixelData(data=gt[None])
    (t,) = head.semantic_targets([sample])
    assert t.labels.tolist() == [0, 3, 5]
    for label, mask in zip(t.labels.tolist(), t.masks):
        assert torch.equal(mask, gt == label)  # 255 in no mask
    assert not t.masks.any(0)[gt == 255].any()
    # ...so in the losses they are negatives of every mask (official)
    pred = torch.randn(1, len(t.labels), 3, 4)
    pairs = FlatMatches(torch.zeros(3, dtype=torch.long),
                        torch.zeros(3, dtype=torch.long), torch.arange(3),
                        torch.arange(3))
    losses = SetCriterion(num_classes=6)(
        torch.zeros(1, 1, len(t.labels), 7), pred[None], [t], pairs,
        weighted=False)
    expected = sum(focal(pred[0, i], (gt == lab).float())
                   for i, lab in enumerate([0, 3, 5])) / 3
    assert torch.allclose(losses['loss_mask'], expected, atol=1e-6)


def test_padding_is_cropped_before_resizing_to_the_original_size():
    init_default_scope('mmmaskformer')
    model = MODELS.build(Config.fromfile(TINY).model).eval()
    torch.manual_seed(0)
    for (h, w), ori in (((40, 56), (80, 112)), ((64, 36), (50, 29))):
        img = torch.randint(0, 256, (3, h, w), dtype=torch.uint8)
        sample = SegDataSample(metainfo=dict(
            img_shape=(h, w), ori_shape=ori, img_path='x.png'))
        data = model.data_preprocessor(dict(inputs=[img],
                                            data_samples=[sample]), False)
        inputs, samples = data['inputs'], data['data_samples']
        H, W = inputs.shape[-2:]
        assert (H, W) == (-(-h // 32) * 32, -(-w // 32) * 32)  # padded
        with torch.no_grad():
            (out,) = model.predict(inputs, samples)
            outputs = model.decode_head(model.extract_feat(inputs))
        # reference: upsample to the padded input, probabilistic scores,
        # crop the padding, then resize to the original size
        masks = F.interpolate(outputs.mask_logits[-1], size=(H, W),
                              mode='bilinear', align_corners=False)[0]
        probs = outputs.cls_logits[-1][0].softmax(-1)[:, :-1]  # (Q, K)
        scores = torch.einsum('qc,qhw->chw', probs, masks.sigmoid())
        scores = scores[:, :h, :w]
        ref = F.interpolate(scores[None], size=ori, mode='bilinear',
                            align_corners=False)[0]
        assert out.seg_logits.data.shape == (6, *ori)
        assert torch.allclose(out.seg_logits.data, ref, atol=1e-5)
        assert torch.equal(out.pred_sem_seg.data[0], ref.argmax(0))
        # resizing before cropping would give other scores
        wrong = F.interpolate(torch.einsum(
            'qc,qhw->chw', probs, masks.sigmoid())[None], size=ori,
            mode='bilinear', align_corners=False)[0]
        assert not torch.allclose(out.seg_logits.data, wrong, atol=1e-3)
