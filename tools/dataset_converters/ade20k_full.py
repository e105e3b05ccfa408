"""Prepare ADE20K-Full (847 classes) as the official MaskFormer does.

    python tools/dataset_converters/ade20k_full.py data/ADE20K_2021_17_01 \
        [--nproc 8] [--trust-pickle]

Follows ``datasets/prepare_ade20k_full_sem_seg.py`` of the official release
(commit da3e60d), step by step:

1. reads ``index_ade20k.pkl`` (its ``folder`` and ``filename`` arrays; the
   folders start with ``ADE20K_2021_17_01/``, relative to the release's
   parent folder);
2. ``ADE_val_*`` images go to ``validation``, all others to ``training``;
3. the ADE class of a pixel of ``NAME_seg.png`` (RGB) is
   ``floor(R / 10) * 256 + G`` (B, the instance channel, is ignored);
4. images whose shorter side is above 512 are resized so that it is 512
   (the longer side ``round(long / short * 512)``): the image bilinearly,
   the raw class map by nearest neighbour, before the mapping;
5. the 847 official ADE ids map to train ids 0..846; everything else
   (unlabelled 0, the other classes) becomes 65535, in a uint16 map;
6. writes ``images_detectron2/{split}/NAME.jpg`` (re-encoded by PIL, default
   JPEG settings) and ``annotations_detectron2/{split}/NAME.tif`` (16-bit).

The index is unpickled with a restricted unpickler (arrays and plain
containers only); ``--trust-pickle`` lifts that for a file you trust.
``configs/maskformer_r50_ade20k-full.py`` and its siblings read the result
with ``ADE20KFullDataset``. Runs in ``--nproc`` processes with a progress
bar.
"""
import argparse
import os
import os.path as osp
import sys

import cv2
import numpy as np
from PIL import Image

sys.path.insert(0, osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__)))))

from mmmaskformer.datasets.ade20k_full import IGNORE_INDEX, ade_id_to_train_id  # noqa: E402

SHORT_SIDE = 512


def ade_class_map(seg_rgb: np.ndarray) -> np.ndarray:
    """(H, W, 3) RGB ``_seg.png`` -> (H, W) int32 ADE class ids."""
    seg = seg_rgb.astype(np.int32)
    return seg[..., 0] // 10 * 256 + seg[..., 1]


def to_train_ids(ade: np.ndarray, lut: dict) -> np.ndarray:
    out = np.full(ade.shape, IGNORE_INDEX, dtype=np.uint16)
    for value in np.unique(ade):
        train_id = lut.get(int(value))
        if train_id is not None:
            out[ade == value] = train_id
    return out


def resized_size(h: int, w: int, short: int = SHORT_SIDE):
    """(h, w) after the official resize (only when the short side > 512)."""
    if min(h, w) <= short:
        return h, w
    if h < w:
        return short, int(round(w / h * short))
    return int(round(h / w * short)), short


def split_of(filename: str) -> str:
    return 'validation' if filename.split('_')[1] == 'val' else 'training'


def convert_one(job):
    """One image: (image path, out image, out label). Returns the out paths."""
    img_path, out_img, out_ann, lut = job
    img = np.asarray(Image.open(img_path).convert('RGB'))
    seg_path = img_path[:-len('.jpg')] + '_seg.png'
    ade = ade_class_map(np.asarray(Image.open(seg_path).convert('RGB')))
    if ade.shape != img.shape[:2]:
        raise ValueError(f'{seg_path}: size {ade.shape} differs from its '
                         f'image {img_path} {img.shape[:2]}')
    h, w = resized_size(*img.shape[:2])
    if (h, w) != img.shape[:2]:
        img = cv2.resize(img, (w, h), interpolation=cv2.INTER_LINEAR)
        ade = cv2.resize(ade, (w, h), interpolation=cv2.INTER_NEAREST)
    label = to_train_ids(ade, lut)
    Image.fromarray(img).save(out_img)
    Image.fromarray(label).save(out_ann)
    return out_img, out_ann


def list_jobs(root: str, index: dict, lut: dict):
    parent = osp.dirname(osp.abspath(root))
    jobs = []
    for folder, filename in zip(index['folder'], index['filename']):
        folder, filename = str(folder), str(filename)
        img_path = osp.join(parent, folder, filename)
        if not osp.isfile(img_path):  # folders given relative to the root
            img_path = osp.join(root, folder, filename)
        split = split_of(filename)
        name = osp.splitext(filename)[0]
        jobs.append((img_path,
                     osp.join(root, 'images_detectron2', split, name + '.jpg'),
                     osp.join(root, 'annotations_detectron2', split,
                              name + '.tif'), lut))
    return jobs


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('root', help='the ADE20K_2021_17_01 folder')
    parser.add_argument('--nproc', type=int, default=os.cpu_count() or 1)
    parser.add_argument('--trust-pickle', action='store_true',
                        help='unpickle index_ade20k.pkl without restriction')
    args = parser.parse_args(argv)
    from mmengine.utils import track_parallel_progress, track_progress

    from mmmaskformer.converters.io import load_restricted_pickle
    index_file = osp.join(args.root, 'index_ade20k.pkl')
    index = load_restricted_pickle(index_file, args.trust_pickle)
    for key in ('folder', 'filename'):
        if key not in index:
            raise KeyError(f'{index_file}: no "{key}" field')
    jobs = list_jobs(args.root, index, ade_id_to_train_id())
    for split in ('training', 'validation'):
        for d in ('images_detectron2', 'annotations_detectron2'):
            os.makedirs(osp.join(args.root, d, split), exist_ok=True)
    print(f'{len(jobs)} images from {index_file}', flush=True)
    if args.nproc > 1:
        track_parallel_progress(convert_one, jobs, args.nproc)
    else:
        track_progress(convert_one, jobs)
    counts = {s: sum(split_of(osp.basename(j[0])) == s for j in jobs)
              for s in ('training', 'validation')}
    print(f'\nwrote {counts["training"]} training and {counts["validation"]} '
          f'validation images and labels under {args.root}/images_detectron2 '
          'and annotations_detectron2')


if __name__ == '__main__':
    main()
