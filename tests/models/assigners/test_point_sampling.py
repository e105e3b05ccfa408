"""The opt-in memory-efficient (point-sampled) matching and losses."""
import torch

import mmmaskformer  # noqa: F401
from mmmaskformer.models.assigners import MaskFormerHungarianAssigner
from mmmaskformer.models.losses import SetCriterion
from mmmaskformer.models.losses.point_sampling import point_sample, uncertain_point_coords
from mmmaskformer.structures import MaskTargets


def test_point_sample_is_bilinear_at_pixel_centres():
    m = torch.arange(16.).view(1, 4, 4)
    # the centre of pixel (row 1, col 2) is x = 2.5/4, y = 1.5/4
    v = point_sample(m, torch.tensor([[2.5 / 4, 1.5 / 4], [0.5, 0.5]]))
    assert v[0, 0].item() == 6.0
    assert abs(v[0, 1].item() - 7.5) < 1e-6  # middle of 5, 6, 9, 10


def test_importance_sampling_prefers_the_boundary():
    g = torch.Generator().manual_seed(0)
    logits = torch.full((1, 32, 32), 8.0)
    logits[:, :, 16:] = -8.0
    logits[:, :, 15:17] = 0.0  # the uncertain band: 2 of 32 columns
    coords = uncertain_point_coords(logits, 200, 3.0, 0.75, generator=g)
    assert coords.shape == (1, 200, 2)

    def in_band(c):  # |logit| < 8 strictly between the centres 14.5, 17.5
        return (c[..., 0] * 32 > 14.5) & (c[..., 0] * 32 < 17.5)

    # the 600 oversampled candidates are the generator's first draw
    candidates = torch.rand(1, 600, 2, generator=torch.Generator()
                            .manual_seed(0))
    available = int(in_band(candidates).sum())
    chosen = int(in_band(coords[0, :150]).sum())  # the 150 uncertain ones
    assert 0 < available < 150
    assert chosen == available  # every uncertain candidate is taken first


def test_point_losses_approach_the_exact_ones():
    torch.manual_seed(0)
    cls = torch.randn(1, 2, 4, 4)
    masks = torch.randn(1, 2, 4, 16, 16).cumsum(-1) / 4  # smooth logits
    gt = torch.zeros(2, 64, 64, dtype=torch.bool)
    gt[0, :, :30] = True
    gt[1, 20:40, 10:50] = True
    targets = [MaskTargets(torch.tensor([0, 2]), gt),
               MaskTargets(torch.tensor([1]), gt[1:])]
    exact = SetCriterion(num_classes=3)
    points = SetCriterion(num_classes=3, num_points=20000,
                          importance_sample_ratio=0.0)  # uniform: unbiased
    matches = exact.assigner.assign(cls, masks, targets)
    e = exact(cls, masks, targets, matches, weighted=False)
    p = points(cls, masks, targets, matches, weighted=False)
    assert torch.equal(e['loss_ce'], p['loss_ce'])
    for k in ('loss_mask', 'loss_dice'):
        assert abs(p[k] - e[k]) / e[k] < 0.03, (k, p[k], e[k])


def test_point_matching_agrees_on_clear_cases():
    torch.manual_seed(0)
    gt = torch.zeros(3, 32, 32, dtype=torch.bool)
    gt[0, :10], gt[1, 10:20], gt[2, 20:] = True, True, True
    target = MaskTargets(torch.tensor([0, 1, 2]), gt)
    # query q predicts target perm[q] confidently
    perm = [2, 0, 1]
    masks = torch.stack([(gt[perm[q]].float() * 2 - 1) * 6
                         for q in range(3)])[None, None]
    masks = torch.nn.functional.interpolate(masks[0], size=(8, 8))[None]
    cls = torch.zeros(1, 1, 3, 4)
    for q in range(3):
        cls[0, 0, q, perm[q]] = 5.0
    matches = MaskFormerHungarianAssigner(num_points=500).assign(cls, masks, [target])
    assert matches.layer_idx.tolist() == [0] * 3
    src, tgt = matches.query_idx, matches.target_idx
    assert [perm[s] for s in src.tolist()] == tgt.tolist()
