"""--tta merges as the official SemanticSegmentorWithTTA: the mean of the
views' score maps (mmseg's SegTTAModel averages their softmax)."""
import torch
from mmengine.config import Config
from mmengine.registry import init_default_scope
from mmengine.structures import PixelData
from mmseg.models.segmentors import SegTTAModel
from mmseg.structures import SegDataSample

import mmmaskformer  # noqa: F401
from mmmaskformer.models.segmentors import MaskFormerTTAModel
from mmmaskformer.registry import MODELS

# two views of a 1x1 image, 3 classes: the mean favours class 2, the mean of
# the softmaxes class 0
VIEW_1 = [2.5, 0.1, 2.1]
VIEW_2 = [0.1, 0.9, 0.7]


def views():
    out = []
    for v in (VIEW_1, VIEW_2):
        s = SegDataSample(metainfo=dict(img_path='a.png'))
        s.seg_logits = PixelData(data=torch.tensor(v).view(3, 1, 1))
        out.append(s)
    return out


def test_merge_is_the_mean_of_the_score_maps():
    (merged,) = MaskFormerTTAModel.merge_preds(None, [views()])
    expected = torch.tensor([1.3, 0.5, 1.4]).view(3, 1, 1)
    assert torch.allclose(merged.seg_logits.data, expected)
    assert merged.pred_sem_seg.data.item() == 2
    # mmseg's merge gives another class on the same views
    tta = SegTTAModel.__new__(SegTTAModel)
    tta.module = type('M', (), {'out_channels': 3})()
    (theirs,) = SegTTAModel.merge_preds(tta, [views()])
    assert theirs.pred_sem_seg.data.item() == 0


def test_views_are_unflipped_and_resized_before_merging(tiny_config):
    """Each view is brought back to the original image by mmseg's
    postprocess (crop padding, un-flip, bilinear to ori_shape)."""
    init_default_scope('mmmaskformer')
    model = MODELS.build(Config.fromfile(tiny_config).model)
    logits = torch.zeros(1, 6, 8, 8)
    logits[0, 3, :, :2] = 1.0  # class 3 on the left of the flipped view
    meta = dict(ori_shape=(16, 16), img_shape=(8, 8), pad_shape=(8, 8),
                padding_size=[0, 0, 0, 0], flip=True,
                flip_direction='horizontal')
    (out,) = model.postprocess_result(logits, [SegDataSample(metainfo=meta)])
    scores = out.seg_logits.data
    assert scores.shape == (6, 16, 16)
    assert (out.pred_sem_seg.data[0, :, -3:] == 3).all()  # right side now
    assert (scores[3, :, :8] == 0).all()
