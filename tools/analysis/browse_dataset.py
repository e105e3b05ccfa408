"""Draw the images of a config's training (or another) split as the
pipeline hands them to the model, with their ground truth.

    python tools/analysis/browse_dataset.py CONFIG --output-dir work_dirs/browse \
        [--split train|val|test] [--max 20] [--cfg-options ...]

Semantic configs draw with the config's ``SegLocalVisualizer`` (label
overlay), panoptic ones with ``DetLocalVisualizer`` (instance masks and
boxes, stuff regions). mmseg's and mmdet's ``browse_dataset.py`` build the
dataset in their own registry, where our dataset types do not exist; this
one builds everything in the config's scope. Bad samples stop with the
file named (the checking loaders of our scope).
"""
import argparse
import os
import os.path as osp
import sys

sys.path.insert(0, osp.dirname(osp.dirname(osp.dirname(osp.abspath(
    __file__)))))

from mmengine.config import DictAction  # noqa: E402
from mmengine.utils import ProgressBar  # noqa: E402


def _drawable(sample):
    """mmdet's visualizer draws tensors: boxes and masks as mmdet's
    browse_dataset.py hands them over."""
    instances = sample.get('gt_instances', None)
    if instances is None:
        return sample
    from mmdet.models.utils import mask2ndarray
    from mmdet.structures.bbox import BaseBoxes
    from mmdet.structures.mask import BitmapMasks
    boxes = instances.get('bboxes', None)
    if isinstance(boxes, BaseBoxes):
        instances.bboxes = boxes.tensor
    masks = instances.get('masks', None)
    if isinstance(masks, BitmapMasks):
        instances.masks = mask2ndarray(masks).astype(bool)
    sample.gt_instances = instances
    return sample


def browse(config, output_dir, split='train', max_images=20,
           cfg_options=None, progress=True):
    from mmmaskformer.registry import VISUALIZERS
    from mmmaskformer.utils.tool_config import build_dataset
    dataset, cfg = build_dataset(config, cfg_options, split)
    visualizer = VISUALIZERS.build(dict(cfg.visualizer, save_dir=None)
                                   if 'save_dir' not in cfg.visualizer
                                   else cfg.visualizer)
    visualizer.dataset_meta = dataset.metainfo
    os.makedirs(output_dir, exist_ok=True)
    count = min(max_images, len(dataset))
    bar = ProgressBar(count) if progress else None
    written = []
    for i in range(count):
        item = dataset[i]
        sample = _drawable(item['data_samples'])
        image = item['inputs'].permute(1, 2, 0).numpy()[..., ::-1]  # RGB
        name = osp.splitext(osp.basename(sample.img_path))[0]
        out_file = osp.join(output_dir, f'{name}.png')
        visualizer.add_datasample(name, image.copy(), sample, draw_gt=True,
                                  draw_pred=False, show=False,
                                  out_file=out_file)
        written.append(out_file)
        if bar:
            bar.update()
    return written


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('config')
    parser.add_argument('--output-dir', required=True)
    parser.add_argument('--split', default='train',
                        choices=['train', 'val', 'test'])
    parser.add_argument('--max', type=int, default=20)
    parser.add_argument('--cfg-options', nargs='+', action=DictAction)
    args = parser.parse_args(argv)
    written = browse(args.config, args.output_dir, args.split, args.max,
                     args.cfg_options, progress=sys.stdout.isatty())
    print(f'{len(written)} images with their ground truth in '
          f'{args.output_dir}')
    return written


if __name__ == '__main__':
    main()
