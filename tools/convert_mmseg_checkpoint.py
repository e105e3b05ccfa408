"""Convert an mmseg/mmdet MaskFormer or Mask2Former checkpoint to ours.

    python tools/convert_mmseg_checkpoint.py SRC.pth DST.pth --config CONFIG

SRC: an mmengine checkpoint of mmseg's MaskFormer (``decode_head.*``, e.g.
``maskformer_r50-d32_8xb2-160k_ade20k-512x512``) or of mmdet's
(``panoptic_head.*``, e.g. ``maskformer_r50_ms-16xb1-75e_coco``), of mmdet's
Mask2Former (``panoptic_head.*``, e.g.
``mask2former_r50_8xb2-lsj-50e_coco-panoptic``) or mmseg's
(``decode_head.*``, e.g. ``mask2former_r50_8xb2-160k_ade20k-512x512``), or a
plain state dict. Loaded weights-only. A head with ``query_feat`` is a
Mask2Former (``mmmaskformer/converters/mmdet_mask2former.py``, which maps
every key or stops naming the ones it cannot), any other a MaskFormer
(``mmmaskformer/converters/openmmlab.py``); backbone keys pass unchanged
(same code on both sides). With ``--config`` (recommended) the result is
checked against the model that config builds: every key present, no key
left over, every shape equal, or the tool stops and names them. Optimizer
and message-hub state are dropped. The output loads with
``tools/test.py CONFIG DST``.
"""
import argparse
import os
import os.path as osp
import sys

sys.path.insert(0, osp.dirname(osp.dirname(osp.abspath(__file__))))

from mmmaskformer.converters.mmdet_mask2former import (  # noqa: E402
    is_mmdet_mask2former,
    mmdet_mask2former_to_ours,
)
from mmmaskformer.converters.openmmlab import openmmlab_to_ours  # noqa: E402
from mmmaskformer.errors import CheckpointError  # noqa: E402
from mmmaskformer.utils.checkpoint import safe_load  # noqa: E402
from mmmaskformer.utils.io import atomic_save  # noqa: E402


def check_against_config(state_dict: dict, config: str, src: str) -> None:
    """Stop with the missing, unexpected and mis-shaped keys named."""
    from mmengine.config import Config
    from mmengine.registry import init_default_scope

    import mmmaskformer  # noqa: F401
    from mmmaskformer.registry import MODELS
    cfg = Config.fromfile(config)
    if cfg.model.get('backbone', {}).get('init_cfg') is not None:
        cfg.model.backbone.init_cfg = None  # no pretrained download
    init_default_scope(cfg.get('default_scope', 'mmmaskformer'))
    expected = MODELS.build(cfg.model).state_dict()
    missing = sorted(set(expected) - set(state_dict))
    unexpected = sorted(set(state_dict) - set(expected))
    shapes = sorted(k for k in set(expected) & set(state_dict)
                    if tuple(expected[k].shape) != tuple(state_dict[k].shape))
    problems = []
    for name, keys in (('missing', missing), ('unexpected', unexpected)):
        if keys:
            problems.append(f'{len(keys)} {name} (first: {keys[:5]})')
    if shapes:
        problems.append('shape mismatch: ' + ', '.join(
            f'{k} {tuple(state_dict[k].shape)} vs '
            f'{tuple(expected[k].shape)}' for k in shapes[:5]))
    if problems:
        raise CheckpointError(
            f'{src} does not convert to the model of {config}: ' +
            '; '.join(problems) + '. Is it a MaskFormer (or Mask2Former) of '
            'the same backbone and sizes?')


def convert(src: str, dst: str, config=None) -> dict:
    checkpoint = safe_load(src, map_location='cpu')
    state_dict = checkpoint.get('state_dict', checkpoint) \
        if isinstance(checkpoint, dict) else None
    if not isinstance(state_dict, dict) or not any(
            k.startswith(('decode_head.', 'panoptic_head.'))
            for k in state_dict):
        raise CheckpointError(
            f'{src}: no `decode_head.*` (mmseg) or `panoptic_head.*` (mmdet) '
            'keys: not a MaskFormer checkpoint of mmseg or mmdet')
    if is_mmdet_mask2former(state_dict):
        try:
            state_dict = mmdet_mask2former_to_ours(state_dict)
        except KeyError as e:
            raise CheckpointError(f'{src}: {e.args[0]}') from None
    else:
        state_dict = openmmlab_to_ours(state_dict)
    if config is not None:
        check_against_config(state_dict, config, src)
    meta = dict(converted_from=osp.basename(src))
    if isinstance(checkpoint.get('meta'), dict):
        for key in ('dataset_meta', 'mmseg_version', 'mmdet_version'):
            if key in checkpoint['meta']:
                meta[key] = checkpoint['meta'][key]
    os.makedirs(osp.dirname(osp.abspath(dst)), exist_ok=True)
    atomic_save(dict(state_dict=state_dict, meta=meta), dst)
    return state_dict


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        'src', help="mmseg's/mmdet's MaskFormer or Mask2Former checkpoint")
    parser.add_argument('dst', help='output checkpoint (.pth)')
    parser.add_argument(
        '--config', help='our config of the same model: the converted keys '
        'and shapes are checked against the model it builds')
    args = parser.parse_args(argv)
    state_dict = convert(args.src, args.dst, args.config)
    print(f'{len(state_dict)} keys -> {args.dst}' +
          (f' (checked against {args.config})' if args.config else ''))


if __name__ == '__main__':
    from mmmaskformer.utils.tool_config import stops_with_one_message
    with stops_with_one_message():
        main()
