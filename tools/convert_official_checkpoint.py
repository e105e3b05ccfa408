"""Convert a released official MaskFormer checkpoint to an mmmaskformer one.

    python tools/convert_official_checkpoint.py model_final_d8dbeb.pkl \
        checkpoints/maskformer_r50_ade20k_official.pth [--head-prefix decode_head.]

Reads detectron2 ``.pkl`` files (numpy arrays under ``"model"``) with a
restricted unpickler that builds only arrays and plain containers (any other
type is refused; ``--trust-pickle`` lifts that for a source you trust) and
``.pth`` files weights-only (tensors under ``"model"`` or a plain state
dict), in the released (v1)
and the current (v2) head key layouts. Every key is mapped or the tool stops
and names the ones it cannot map. The output loads with
``tools/test.py CONFIG OUTPUT``.
"""
import argparse
import os
import os.path as osp
import sys

sys.path.insert(0, osp.dirname(osp.dirname(osp.abspath(__file__))))

import torch  # noqa: E402

from mmmaskformer.converters import convert_official_state_dict  # noqa: E402
from mmmaskformer.converters.io import load_official  # noqa: E402
from mmmaskformer.errors import CheckpointError  # noqa: E402


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('src', help='official .pkl/.pth checkpoint')
    parser.add_argument('dst', help='output mmengine checkpoint (.pth)')
    parser.add_argument(
        '--head-prefix', default='decode_head.',
        help="our head's prefix: 'decode_head.' for semantic configs, "
        "'panoptic_head.' for panoptic ones")
    parser.add_argument('--no-object-weight', type=float, default=0.1)
    parser.add_argument(
        '--trust-pickle', action='store_true',
        help='unpickle a .pkl without restriction (it can run code); by '
        'default only arrays and plain containers are built')
    args = parser.parse_args(argv)
    src = load_official(args.src, args.trust_pickle)
    try:
        state_dict = convert_official_state_dict(
            src, head_prefix=args.head_prefix,
            no_object_weight=args.no_object_weight)
    except (KeyError, ValueError) as e:  # unmapped keys, a wrong weight
        raise CheckpointError(f'{args.src}: {e.args[0]}') from None
    os.makedirs(osp.dirname(osp.abspath(args.dst)), exist_ok=True)
    torch.save(dict(state_dict=state_dict,
                    meta=dict(converted_from=osp.basename(args.src))),
               args.dst)
    print(f'{len(src)} official keys -> {len(state_dict)} keys in {args.dst}')


if __name__ == '__main__':
    from mmmaskformer.utils.tool_config import stops_with_one_message
    with stops_with_one_message():
        main()
