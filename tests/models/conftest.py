"""Fixtures shared by the model tests: a tiny MaskFormerHead, backbone-like
features for it, and a semantic data sample.

Each is a factory (call it with the arguments you need), so that a test
builds what it asserts on in-line and no test module imports another.
"""
import pytest
import torch
from mmengine.structures import PixelData
from mmseg.structures import SegDataSample

import mmmaskformer  # noqa: F401

# channels of the four backbone levels (strides 4, 8, 16, 32)
IN_CHANNELS = (8, 16, 32, 64)


@pytest.fixture(scope='session')
def in_channels():
    """The channels of the levels :func:`feats` makes, as a list."""
    return list(IN_CHANNELS)


def _tiny_head(num_classes=3, encoder=False, dropout=0.0, num_queries=5):
    from mmmaskformer.models import MaskFormerHead
    pixel_decoder = dict(type='TransformerEncoderPixelDecoder'
                         if encoder else 'FPNPixelDecoder', conv_dim=32,
                         mask_dim=32)
    if encoder:
        pixel_decoder.update(num_encoder_layers=1, num_heads=2,
                             dim_feedforward=32, dropout=dropout)
    return MaskFormerHead(
        num_classes=num_classes, in_channels=list(IN_CHANNELS),
        pixel_decoder=pixel_decoder,
        transformer_decoder=dict(type='DETRTransformerDecoder', hidden_dim=32,
                                 num_queries=num_queries, num_heads=2,
                                 dim_feedforward=32, dropout=dropout,
                                 num_layers=2))


@pytest.fixture(scope='session')
def tiny_head():
    """``tiny_head(num_classes=3, encoder=False, dropout=0.0,
    num_queries=5)``: a 2-layer MaskFormerHead (hidden 32) on
    :data:`IN_CHANNELS`, with the FPN or the transformer-encoder pixel
    decoder, initialised from torch's global generator."""
    return _tiny_head


def _feats(batch=2, size=32, seed=0):
    g = torch.Generator().manual_seed(seed)
    return [torch.randn(batch, c, size // s, size // s, generator=g)
            for c, s in zip(IN_CHANNELS, (4, 8, 16, 32))]


@pytest.fixture(scope='session')
def feats():
    """``feats(batch=2, size=32, seed=0)``: seeded random features at
    strides 4..32 of a ``size`` x ``size`` input."""
    return _feats


def _seg_sample(gt: torch.Tensor, path='img_0.png'):
    s = SegDataSample(metainfo=dict(seg_map_path=path, img_shape=gt.shape,
                                    ori_shape=gt.shape, pad_shape=gt.shape))
    s.gt_sem_seg = PixelData(data=gt[None])
    return s


@pytest.fixture(scope='session')
def seg_sample():
    """``seg_sample(gt, path='img_0.png')``: a SegDataSample holding the
    (H, W) label map ``gt``, its shapes in the metainfo."""
    return _seg_sample
