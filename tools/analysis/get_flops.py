"""Parameters and FLOPs of a config at a fixed input size (paper Table 1).

    python tools/analysis/get_flops.py CONFIG [--shape H [W]] [--cfg-options ...]

Counts with mmengine's ``FlopAnalyzer`` (the fvcore counter the official
``tools/analyze_model.py`` uses, ported): one fused multiply-add is one FLOP,
convolutions, linear layers, matmuls and einsums are counted, element-wise
ops and normalisations are not. Like the paper's ``--use-fixed-input-size``
we run the whole inference at the crop size on one image: backbone, pixel
decoder, transformer decoder, upsampling of the mask logits to the input and
the semantic inference (panoptic configs: everything up to the upsampled mask
logits and class scores). Default shape: the config's crop size.
"""
import argparse
import os.path as osp
import sys

sys.path.insert(0, osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__)))))

import torch  # noqa: E402
import torch.nn.functional as F  # noqa: E402
from mmengine.analysis import FlopAnalyzer, parameter_count  # noqa: E402
from mmengine.config import Config, DictAction  # noqa: E402
from mmengine.registry import init_default_scope  # noqa: E402
from torch import nn  # noqa: E402

import mmmaskformer  # noqa: E402,F401
from mmmaskformer.registry import MODELS  # noqa: E402

# Paper Table 1 (ADE20K-150) and Table 3 (COCO panoptic, fvcore averaged
# over 100 val images, so not comparable to a fixed size).
PAPER = {
    'maskformer_r50_ade20k': (41, 53),
    'maskformer_r101_ade20k': (60, 73),
    'maskformer_swin-t_ade20k': (42, 55),
    'maskformer_swin-s_ade20k': (63, 79),
    'maskformer_swin-b_ade20k': (102, 195),
    'maskformer_swin-l_ade20k': (212, 375),
    'maskformer_r50_coco-panoptic': (45, None),
    'maskformer_r101_coco-panoptic': (64, None),
    'maskformer_swin-t_coco-panoptic': (42, None),
    'maskformer_swin-s_coco-panoptic': (63, None),
    'maskformer_swin-b_coco-panoptic': (102, None),
    'maskformer_swin-l_coco-panoptic': (212, None),
    # Mask2Former: the parameters as usually cited (paper Table 1)
    'mask2former_r50_coco-panoptic': (44, None),
    'mask2former_swin-l_coco-panoptic': (216, None),
}


class InferenceWrapper(nn.Module):
    """The whole single-image inference of a built model, as one forward."""

    def __init__(self, model: nn.Module) -> None:
        super().__init__()
        self.model = model

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        feats = self.model.extract_feat(x)
        if hasattr(self.model, 'decode_head'):
            metas = [dict(img_shape=tuple(x.shape[-2:]),
                          pad_shape=tuple(x.shape[-2:]))]
            return self.model.decode_head.predict(feats, metas,
                                                  self.model.test_cfg)
        out = self.model.panoptic_head(feats)
        masks = F.interpolate(out.mask_logits[-1], size=x.shape[-2:],
                              mode='bilinear', align_corners=False)
        return masks.sigmoid(), out.cls_logits[-1].softmax(-1)


def build(config, cfg_options=None):
    cfg = Config.fromfile(config)
    if cfg_options:
        cfg.merge_from_dict(cfg_options)
    init_default_scope(cfg.get('default_scope', 'mmmaskformer'))
    return cfg, MODELS.build(cfg.model)


def complexity(config, shape=None, cfg_options=None) -> dict:
    cfg, model = build(config, cfg_options)
    if shape is None:
        crop = cfg.get('crop_size', None) or (512, 512)
        shape = tuple(crop)
    model.eval()
    wrapper = InferenceWrapper(model)
    x = torch.zeros(1, 3, *shape)
    with torch.no_grad():
        analyzer = FlopAnalyzer(wrapper, (x, ))
        analyzer.unsupported_ops_warnings(False)
        analyzer.uncalled_modules_warnings(False)
        flops = analyzer.total()
    params = parameter_count(model)['']
    return dict(shape=shape, params=params, flops=flops)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('config')
    parser.add_argument('--shape', type=int, nargs='+', default=None)
    parser.add_argument('--cfg-options', nargs='+', action=DictAction)
    args = parser.parse_args()
    shape = None
    if args.shape:
        shape = (args.shape[0], args.shape[-1])
    res = complexity(args.config, shape, args.cfg_options)
    name = osp.splitext(osp.basename(args.config))[0]
    paper = PAPER.get(name, (None, None))
    line = (f'{name}: input 1x3x{res["shape"][0]}x{res["shape"][1]}, '
            f'params {res["params"] / 1e6:.2f}M, FLOPs {res["flops"] / 1e9:.1f}G')
    if paper[0]:
        line += f' | paper: {paper[0]}M'
        if paper[1]:
            line += (f', {paper[1]}G (ours/paper '
                     f'{res["flops"] / 1e9 / paper[1]:.3f})')
    print(line)


if __name__ == '__main__':
    main()
