"""MSDeformAttnPixelDecoder's CPU deformable-attention kernel: the official
formula level by level, each level's samples recomputed in the backward
instead of kept, the level sizes read from the host."""
import torch
from mmcv.ops.multi_scale_deform_attn import multi_scale_deformable_attn_pytorch

from mmmaskformer.models.pixel_decoders.msdeform_attn_pixel_decoder import (
    DeformAttnKernel,
    deform_attn_by_level,
)

SIZES = [(3, 4), (5, 6), (7, 8)]  # L = 3 levels


def inputs(dtype=torch.float64, seed=0):
    """value (N=2, S, M=2, d=4), locations (2, Sq=9, 2, 3, P=4, 2), a few
    outside [0, 1] (zero padding), weights (2, 9, 2, 3, 4)."""
    g = torch.Generator().manual_seed(seed)
    num_tokens = sum(h * w for h, w in SIZES)
    value = torch.randn(2, num_tokens, 2, 4, generator=g, dtype=dtype)
    loc = torch.rand(2, 9, 2, 3, 4, 2, generator=g, dtype=dtype) * 1.2 - 0.1
    weights = torch.rand(2, 9, 2, 3, 4, generator=g, dtype=dtype)
    return [t.requires_grad_() for t in (value, loc, weights)]


def test_values_and_gradients_equal_mmcvs_pytorch_kernel():
    value, loc, weights = inputs()
    out = deform_attn_by_level(value, SIZES, loc, weights)
    ref = multi_scale_deformable_attn_pytorch(value, torch.tensor(SIZES), loc,
                                              weights)
    torch.testing.assert_close(out, ref, rtol=1e-12, atol=1e-14)
    grad = torch.randn_like(out)
    ours = torch.autograd.grad(out, (value, loc, weights), grad)
    theirs = torch.autograd.grad(ref, (value, loc, weights), grad)
    for a, b in zip(ours, theirs):
        torch.testing.assert_close(a, b, rtol=1e-12, atol=1e-14)
    assert torch.autograd.gradcheck(
        lambda v, lo, w: deform_attn_by_level(v, SIZES, lo, w),
        (value, loc, weights))


def test_samples_are_not_kept_for_the_backward():
    """Autograd keeps the inputs only: no (N*M, d, Sq, P) samples of a
    level, which the official formula keeps for all levels, stacked as
    (N*M, d, Sq, L*P)."""
    value, loc, weights = inputs(torch.float32)

    def saved_shapes(fn):
        shapes = []
        with torch.autograd.graph.saved_tensors_hooks(
                lambda t: shapes.append(tuple(t.shape)) or t, lambda t: t):
            fn().sum().backward()
        return shapes

    ours = saved_shapes(lambda: deform_attn_by_level(value, SIZES, loc,
                                                     weights))
    assert not [s for s in ours if len(s) == 4 and s[1:] in {
        (4, 9, 4), (4, 9, 12)}], ours
    assert (4, 4, 3, 4) in ours  # the first level's value, (N*M, d, h, w)
    theirs = saved_shapes(lambda: multi_scale_deformable_attn_pytorch(
        value, torch.tensor(SIZES), loc, weights))
    assert (4, 4, 9, 12) in theirs


def test_kernel_reads_registered_sizes_from_the_host():
    kernel = DeformAttnKernel()
    shapes = torch.tensor(SIZES)
    # registered sizes win over the tensor's values (which it never reads)
    kernel.register(shapes, [(1, 2)])
    assert kernel.sizes_of(shapes) == [(1, 2)]
    other = torch.tensor(SIZES)
    assert kernel.sizes_of(other) == SIZES  # read from an unknown tensor
    value, loc, weights = inputs()
    kernel.register(shapes, SIZES)
    start = torch.tensor([0, 12, 42])
    torch.testing.assert_close(kernel(value, shapes, start, loc, weights),
                               deform_attn_by_level(value, SIZES, loc,
                                                    weights), rtol=0, atol=0)
    kernel.clear()
    assert kernel.sizes_of(shapes) == SIZES


def test_kept_geometry_and_position_embeddings_follow_the_input_size(
        feats, in_channels):
    """Both decoders keep what depends on the level sizes only; another
    size (or batch) gets its own, and the outputs equal a fresh module's."""
    import copy

    from mmengine.registry import init_default_scope

    from mmmaskformer.registry import MODELS
    init_default_scope('mmmaskformer')
    torch.manual_seed(0)
    head = MODELS.build(dict(
        type='mmmaskformer.Mask2FormerHead', num_classes=3,
        in_channels=in_channels,
        pixel_decoder=dict(type='mmmaskformer.MSDeformAttnPixelDecoder',
                           conv_dim=32, mask_dim=16, num_encoder_layers=1,
                           num_heads=2, dim_feedforward=32),
        transformer_decoder=dict(
            type='mmmaskformer.MultiScaleMaskedTransformerDecoder',
            hidden_dim=32, num_queries=5, num_heads=2, dim_feedforward=32,
            num_layers=3))).eval()
    fresh = copy.deepcopy(head)
    with torch.no_grad():
        for batch, size in ((2, 32), (1, 64), (2, 32)):
            x = feats(batch=batch, size=size, seed=size)
            ours, ref = head(x), copy.deepcopy(fresh)(x)
            assert torch.equal(ours.mask_logits, ref.mask_logits), size
            assert torch.equal(ours.cls_logits, ref.cls_logits), size
    assert len(head.pixel_decoder._geometry_cache) == 2
    assert len(head.transformer_decoder._pos_cache) == 6  # 3 levels x 2
