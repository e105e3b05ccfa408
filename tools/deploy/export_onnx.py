"""Export a semantic MaskFormer to ONNX.

    python tools/deploy/export_onnx.py CONFIG CKPT --shape 512 512 \
        --out work_dirs/maskformer.onnx [--opset 17] [--check]

The graph takes ``img``: (1, 3, H, W) float32, the image as loaded by
mmcv/OpenCV (BGR, 0-255, already resized/padded to H x W); it does the data
preprocessor's channel swap and normalisation itself. Outputs:

* ``scores`` (1, K, H, W): the per-class score map of the probabilistic
  semantic inference (paper Sec. 3.4; argmax over K is the label map);
* ``cls_logits`` (1, Q, K+1) and ``mask_logits`` (1, Q, H/4, W/4): the last
  decoder layer's class and mask logits.

The shape is static (one H x W per file). ``--check`` runs the file with
onnxruntime on a random image and compares every output with torch's.
Exported with torch's TorchScript-based exporter (``dynamo=False``), which
needs no onnxscript. ``onnx`` and ``onnxruntime`` are export/test extras
(requirements/tests.txt), not runtime needs.
"""
import argparse
import os
import os.path as osp
import sys

sys.path.insert(0, osp.dirname(osp.dirname(osp.dirname(osp.abspath(
    __file__)))))

import torch  # noqa: E402
from torch import nn  # noqa: E402

OUTPUTS = ('scores', 'cls_logits', 'mask_logits')


class SemanticExport(nn.Module):
    """image (as loaded) -> (scores, cls_logits, mask_logits)."""

    def __init__(self, segmentor: nn.Module) -> None:
        super().__init__()
        self.segmentor = segmentor
        pre = segmentor.data_preprocessor
        # mmseg's SegDataPreProcessor: `channel_conversion`; mmengine's
        # ImgDataPreprocessor (mmdet's): `_channel_conversion`
        self.bgr_to_rgb = bool(getattr(pre, 'channel_conversion', getattr(
            pre, '_channel_conversion', False)))
        self.register_buffer('mean', pre.mean.clone().view(1, -1, 1, 1))
        self.register_buffer('std', pre.std.clone().view(1, -1, 1, 1))

    def forward(self, img: torch.Tensor):
        if self.bgr_to_rgb:
            img = img[:, [2, 1, 0]]
        x = (img - self.mean) / self.std
        head = self.segmentor.decode_head
        out = head(self.segmentor.extract_feat(x))
        scores = head.semantic_scores(out, img.shape[-2:],
                                      self.segmentor.test_cfg)
        return scores, out.cls_logits[-1], out.mask_logits[-1]


def build_export_module(config: str, checkpoint: str) -> SemanticExport:
    from mmseg.apis import init_model

    import mmmaskformer  # noqa: F401
    from mmmaskformer.apis import upstream_inference_config

    # the stock loader names in the test pipeline, so that mmseg's
    # inference_model also runs on the exported module's segmentor
    model = init_model(upstream_inference_config(config), checkpoint,
                       device='cpu')
    if not hasattr(model, 'decode_head'):
        raise SystemExit(f'{config}: not a semantic MaskFormer (no '
                         'decode_head); panoptic export is not supported')
    mode = (model.test_cfg or {}).get('semantic_inference', 'probabilistic')
    if mode != 'probabilistic':
        # 'general' and 'iterative' keep a data-dependent set of queries,
        # which a traced graph would freeze to the example image's
        raise SystemExit(
            f'{config}: model.test_cfg.semantic_inference={mode!r}; only '
            "'probabilistic' exports to a static graph")
    return SemanticExport(model).eval()


def export(config, checkpoint, shape, out, opset=17):
    module = build_export_module(config, checkpoint)
    img = torch.rand(1, 3, *shape) * 255
    os.makedirs(osp.dirname(osp.abspath(out)), exist_ok=True)
    with torch.no_grad():
        torch.onnx.export(module, (img, ), out, dynamo=False,
                          opset_version=opset, input_names=['img'],
                          output_names=list(OUTPUTS))
    return module


def check(module, out, shape, seed=0) -> dict:
    """Max |onnxruntime - torch| per output on a random image."""
    import onnxruntime as ort
    img = torch.rand(1, 3, *shape,
                     generator=torch.Generator().manual_seed(seed)) * 255
    session = ort.InferenceSession(out, providers=['CPUExecutionProvider'])
    got = session.run(None, {'img': img.numpy()})
    with torch.no_grad():
        want = module(img)
    return {name: float(abs(g - w.numpy()).max())
            for name, g, w in zip(OUTPUTS, got, want)}


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('config')
    parser.add_argument('checkpoint')
    parser.add_argument('--shape', type=int, nargs=2, required=True,
                        metavar=('H', 'W'))
    parser.add_argument('--out', default=None,
                        help='default: the checkpoint name with .onnx')
    parser.add_argument('--opset', type=int, default=17)
    parser.add_argument('--check', action='store_true',
                        help='compare with torch under onnxruntime')
    args = parser.parse_args(argv)
    out = args.out or osp.splitext(args.checkpoint)[0] + '.onnx'
    module = export(args.config, args.checkpoint, args.shape, out, args.opset)
    print(f'{out}: input img (1, 3, {args.shape[0]}, {args.shape[1]}), '
          f'outputs {", ".join(OUTPUTS)}')
    if args.check:
        diffs = check(module, out, args.shape)
        print('max |onnxruntime - torch|: ' + ', '.join(
            f'{k} {v:.2e}' for k, v in diffs.items()))
    return out


if __name__ == '__main__':
    main()
