"""Convert ImageNet backbone weights for a config's ``init_cfg``.

    python tools/convert_backbone.py R-103.pkl data/pretrained/R-103_mmseg.pth
    python tools/convert_backbone.py swin_tiny_patch4_window7_224.pth \
        data/pretrained/swin_tiny_patch4_window7_224.pth

Reads torchvision ResNets (used as they are), detectron2 ResNet pickles
(``R-50.pkl``, the DeepLab ``R-103.pkl`` of R101c) and the official Swin
checkpoints, and writes mmseg backbone keys. Classifier heads and the
``attn_mask`` buffers that Swin's original code saves are dropped and named;
a key that no rule maps stops the tool, named.
"""
import argparse
import os
import os.path as osp
import sys

sys.path.insert(0, osp.dirname(osp.dirname(osp.abspath(__file__))))

import torch  # noqa: E402

from mmmaskformer.converters import convert_backbone_weights  # noqa: E402
from mmmaskformer.converters.io import load_official  # noqa: E402
from mmmaskformer.errors import CheckpointError  # noqa: E402


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('src')
    parser.add_argument('dst')
    parser.add_argument(
        '--trust-pickle', action='store_true',
        help='unpickle a .pkl without restriction (it can run code)')
    args = parser.parse_args(argv)
    try:
        state_dict, dropped = convert_backbone_weights(
            load_official(args.src, args.trust_pickle))
    except KeyError as e:  # keys no rule maps: named in the message
        raise CheckpointError(f'{args.src}: {e.args[0]}') from None
    os.makedirs(osp.dirname(osp.abspath(args.dst)), exist_ok=True)
    torch.save(dict(state_dict=state_dict), args.dst)
    print(f'{len(state_dict)} keys -> {args.dst}'
          + (f' (dropped: {", ".join(dropped)})' if dropped else ''))


if __name__ == '__main__':
    from mmmaskformer.utils.tool_config import stops_with_one_message
    with stops_with_one_message():
        main()
