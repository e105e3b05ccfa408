"""The main job on the embedded default: generate the demo dataset, train a
small MaskFormer (or Mask2Former) on it with tools/train.py, score it with
tools/test.py, and compare with a trivial baseline.

    python tools/demo.py [--model maskformer|mask2former]
                         [--task semantic|panoptic|instance] [--work-dir DIR]
                         [--iters N] [--checkpoint PANOPTIC_CKPT]

semantic: mIoU from mmseg's IoUMetric, against predicting the majority class.
panoptic: PQ/SQ/RQ from mmdet's CocoPanopticMetric, re-checked with
panopticapi's pq_compute on the saved PNG/JSON predictions, against
predicting the majority stuff class as one segment per image.
instance: the panoptic model (trained as for `panoptic`, or `--checkpoint`)
with `pred_instances`, mask AP from mmdet's CocoMetric(metric='segm')
against the things of the generated panoptic annotations, against
predicting every thing class once per image as the whole image.

--model mask2former: the same tasks with the Mask2Former demo configs (the
same data, backbone and schedule, Mask2Former's head); instance is trained
directly on the instances (mmdet's CocoDataset). The score is printed next
to MaskFormer's on the same data, as recorded in configs/metafiles/demo.yaml
(the README's numbers, tools/demo.py --model maskformer, seed 0).
"""
import argparse
import glob
import json
import os
import os.path as osp
import subprocess
import sys
import time

import cv2
import numpy as np

REPO = osp.dirname(osp.dirname(osp.abspath(__file__)))
# (model, task) -> (config trained, config scored)
_TINY = osp.join(REPO, 'configs', '{}_r18-tiny_synthetic{}-64x64.py')
CONFIGS = {
    ('maskformer', 'semantic'): (_TINY.format('maskformer', ''), ) * 2,
    ('maskformer', 'panoptic'): (_TINY.format('maskformer', '-panoptic'), ) * 2,
    # MaskFormer's instances come from its panoptic model
    ('maskformer', 'instance'): (
        _TINY.format('maskformer', '-panoptic'),
        _TINY.format('maskformer', '-panoptic-instance')),
    ('mask2former', 'semantic'): (_TINY.format('mask2former', ''), ) * 2,
    ('mask2former', 'panoptic'): (
        _TINY.format('mask2former', '-panoptic'), ) * 2,
    ('mask2former', 'instance'): (
        _TINY.format('mask2former', '-instance'), ) * 2,
}
ITERS = dict(semantic=1500, panoptic=2000, instance=2000)
METRIC_NAMES = dict(semantic='mIoU', panoptic='PQ', instance='mask AP')


def maskformer_reference(task: str):
    """MaskFormer's demo score for ``task`` as the metafile records it
    (what the README reports), or None."""
    import yaml
    with open(osp.join(REPO, 'configs', 'metafiles', 'demo.yaml')) as f:
        models = yaml.safe_load(f)['Models']
    name = osp.splitext(osp.basename(CONFIGS[('maskformer', task)][1]))[0]
    for model in models:
        if model['Name'] == name and model.get('Results'):
            return model['Results'][0]['Metrics'][METRIC_NAMES[task]]
    return None


def majority_baseline(data_root: str, num_classes: int) -> dict:
    """mIoU of predicting the most frequent training class everywhere."""
    def hist(split):
        h = np.zeros(num_classes, np.int64)
        for f in sorted(glob.glob(osp.join(data_root, 'ann_dir', split,
                                           '*.png'))):
            h += np.bincount(cv2.imread(f, cv2.IMREAD_UNCHANGED).ravel(),
                             minlength=256)[:num_classes]
        return h
    majority = int(hist('train').argmax())
    val = hist('val')
    iou = np.full(num_classes, np.nan)
    iou[val > 0] = 0.0
    iou[majority] = val[majority] / val.sum()
    return dict(class_index=majority, mIoU=float(np.nanmean(iou) * 100))


def majority_stuff_pq(data_root: str, out_dir: str) -> dict:
    """PQ of predicting, for every image, one segment of the most frequent
    stuff class of the training set covering the whole image."""
    from panopticapi.evaluation import pq_compute
    from panopticapi.utils import id2rgb

    from mmmaskformer.datasets.synthetic_shapes import THING_CLASSES
    ann_dir = osp.join(data_root, 'annotations')
    with open(osp.join(ann_dir, 'panoptic_train.json')) as f:
        train = json.load(f)
    area = {}
    for ann in train['annotations']:
        for seg in ann['segments_info']:
            if seg['category_id'] > len(THING_CLASSES):
                area[seg['category_id']] = area.get(seg['category_id'],
                                                    0) + seg['area']
    category = max(area, key=area.get)
    with open(osp.join(ann_dir, 'panoptic_val.json')) as f:
        val = json.load(f)
    os.makedirs(osp.join(out_dir, 'baseline'), exist_ok=True)
    annotations = []
    for img, ann in zip(val['images'], val['annotations']):
        ids = np.ones((img['height'], img['width']), np.int64)
        cv2.imwrite(osp.join(out_dir, 'baseline', ann['file_name']),
                    id2rgb(ids)[..., ::-1])
        annotations.append(dict(image_id=img['id'],
                                file_name=ann['file_name'],
                                segments_info=[dict(id=1,
                                                    category_id=category)]))
    pred_json = osp.join(out_dir, 'baseline.json')
    with open(pred_json, 'w') as f:
        json.dump(dict(annotations=annotations), f)
    res = pq_compute(osp.join(ann_dir, 'panoptic_val.json'), pred_json,
                     osp.join(ann_dir, 'panoptic_val'),
                     osp.join(out_dir, 'baseline'))
    return dict(PQ=100 * res['All']['pq'])


def whole_image_ap(data_root: str) -> float:
    """Mask AP (COCO, in %) of the trivial instance prediction: every thing
    class once per val image, as the whole image, score 1."""
    import contextlib
    import io

    from pycocotools.coco import COCO
    from pycocotools.cocoeval import COCOeval

    from mmmaskformer.utils.rle import coco_rle
    with contextlib.redirect_stdout(io.StringIO()):
        gt = COCO(osp.join(data_root, 'annotations', 'instances_val.json'))
        results = []
        for img in gt.dataset['images']:
            rle = coco_rle(np.ones((img['height'], img['width'])))
            for cat in gt.getCatIds():
                results.append(dict(image_id=img['id'], category_id=cat,
                                    segmentation=rle, score=1.0))
        evaluator = COCOeval(gt, gt.loadRes(results), 'segm')
        evaluator.evaluate()
        evaluator.accumulate()
        evaluator.summarize()
    return 100 * float(evaluator.stats[0])


def last_metrics(test_dir: str) -> dict:
    """The metrics tools/test.py wrote last under ``test_dir``."""
    results = sorted(glob.glob(osp.join(test_dir, '*', '*.json')),
                     key=os.path.getmtime)
    with open(results[-1]) as f:
        return json.load(f)


def run(cmd):
    print('$ ' + ' '.join(cmd), flush=True)
    subprocess.run(cmd, check=True, cwd=REPO)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('--model', choices=['maskformer', 'mask2former'],
                        default='maskformer')
    parser.add_argument('--task', choices=['semantic', 'panoptic',
                                           'instance'], default='semantic')
    parser.add_argument(
        '--checkpoint', default=None,
        help='score this checkpoint instead of training (MaskFormer '
        'instance: a panoptic checkpoint)')
    parser.add_argument('--work-dir', default=None,
                        help='default: work_dirs/demo[-TASK] for MaskFormer, '
                        'work_dirs/demo-mask2former-TASK for Mask2Former')
    parser.add_argument('--data-root', default=osp.join(REPO, 'data',
                                                        'synthetic'))
    parser.add_argument('--iters', type=int, default=None,
                        help='default: 1500 (semantic), 2000 (panoptic)')
    parser.add_argument('--seed', type=int, default=0,
                        help='the run\'s seed (randomness.seed)')
    args = parser.parse_args()
    task, model = args.task, args.model
    iters = args.iters or ITERS[task]
    default_dir = 'demo' if task == 'semantic' else f'demo-{task}'
    if model == 'mask2former':
        default_dir = f'demo-mask2former-{task}'
    work_dir = args.work_dir or osp.join(REPO, 'work_dirs', default_dir)
    train_config, test_config = CONFIGS[(model, task)]
    sys.path.insert(0, REPO)
    from mmmaskformer.datasets import generate_synthetic_dataset
    from mmmaskformer.datasets.synthetic_shapes import CLASSES

    start = time.time()
    print(f'[demo] 1/3 generating the dataset in {args.data_root}', flush=True)
    generate_synthetic_dataset(args.data_root, progress=sys.stdout.isatty())
    root = args.data_root.rstrip('/') + '/'
    options = ['--cfg-options'] + [
        f'{d}.dataset.data_root={root}'
        for d in ('train_dataloader', 'val_dataloader', 'test_dataloader')
    ]
    # the evaluator's files on this data root (an instance-trained model
    # has no panoptic evaluator: its instances_val.json is set below)
    if task == 'panoptic' or (task, model) == ('instance', 'maskformer'):
        options += [
            f'{e}.ann_file={root}annotations/panoptic_val.json'
            for e in ('val_evaluator', 'test_evaluator')
        ] + [
            f'{e}.seg_prefix={root}annotations/panoptic_val/'
            for e in ('val_evaluator', 'test_evaluator')
        ]
    instance_options = options[:4] + [
        f'{e}.ann_file={root}annotations/instances_val.json'
        for e in ('val_evaluator', 'test_evaluator')]
    if (task, model) == ('instance', 'mask2former'):
        options = instance_options
    checkpoint = args.checkpoint
    if checkpoint is None:
        print(f'[demo] 2/3 training ({model}, {task}) for {iters} '
              'iterations', flush=True)
        train_dir = osp.join(work_dir, 'train')
        run([sys.executable, 'tools/train.py', train_config, '--work-dir',
             train_dir] + options + [
                 f'train_cfg.max_iters={iters}',
                 f'train_cfg.val_interval={iters}',
                 f'param_scheduler.0.end={iters}',
                 f'randomness.seed={args.seed}'
             ])
        checkpoint = osp.join(train_dir, f'iter_{iters}.pth')
    print('[demo] 3/3 scoring the checkpoint on the validation split',
          flush=True)
    test_dir = osp.join(work_dir, 'test')
    out_dir = osp.join(work_dir, 'predictions')
    if task == 'instance':
        run([sys.executable, 'tools/test.py', test_config, checkpoint,
             '--work-dir', test_dir] + instance_options)
    else:
        run([sys.executable, 'tools/test.py', test_config, checkpoint,
             '--work-dir', test_dir, '--out', out_dir] + options)
    metrics = last_metrics(test_dir)
    if task == 'semantic':
        baseline = majority_baseline(args.data_root, len(CLASSES))
        summary = dict(
            mIoU=metrics['mIoU'], aAcc=metrics['aAcc'], mAcc=metrics['mAcc'],
            majority_class_mIoU=round(baseline['mIoU'], 2),
            majority_class=CLASSES[baseline['class_index']])
        line = (f"mIoU {summary['mIoU']:.2f} (majority-class baseline "
                f"{summary['majority_class_mIoU']:.2f})")
    elif task == 'instance':
        summary = {k.split('/')[-1]: v for k, v in metrics.items()
                   if k.startswith('coco/segm')}
        summary['whole_image_mask_AP'] = round(
            whole_image_ap(args.data_root), 2)
        line = (f"mask AP {100 * summary['segm_mAP']:.1f} (AP50 "
                f"{100 * summary['segm_mAP_50']:.1f}, AP75 "
                f"{100 * summary['segm_mAP_75']:.1f}; whole-image baseline "
                f"AP {summary['whole_image_mask_AP']:.1f})")
    else:
        from panopticapi.evaluation import pq_compute
        ann_dir = osp.join(args.data_root, 'annotations')
        ref = pq_compute(osp.join(ann_dir, 'panoptic_val.json'),
                         osp.join(out_dir, 'panoptic.panoptic.json'),
                         osp.join(ann_dir, 'panoptic_val'),
                         osp.join(out_dir, 'panoptic.panoptic'))
        summary = {
            k.split('/')[-1]: v
            for k, v in metrics.items() if k.startswith('coco_panoptic/')
        }
        summary['panopticapi_PQ'] = round(100 * ref['All']['pq'], 4)
        summary['majority_stuff_PQ'] = round(
            majority_stuff_pq(args.data_root, work_dir)['PQ'], 2)
        line = (f"PQ {summary['PQ']:.2f} SQ {summary['SQ']:.2f} RQ "
                f"{summary['RQ']:.2f} (things {summary['PQ_th']:.2f}, stuff "
                f"{summary['PQ_st']:.2f}); panopticapi on the saved files: "
                f"PQ {summary['panopticapi_PQ']:.2f}; majority-stuff "
                f"baseline PQ {summary['majority_stuff_PQ']:.2f}")
        if model == 'mask2former':
            # the same panoptic model as a semantic and an instance
            # segmenter, as the official COCO panoptic models report
            # PQ, AP and mIoU
            for kind in ('semantic', 'instance'):
                kind_dir = osp.join(work_dir, f'test-{kind}')
                run([sys.executable, 'tools/test.py',
                     _TINY.format(model, f'-panoptic-{kind}'), checkpoint,
                     '--work-dir', kind_dir] +
                    (instance_options if kind == 'instance' else
                     options[:4]))
                scores = last_metrics(kind_dir)
                if kind == 'semantic':
                    summary['mIoU'] = scores['mIoU']
                else:
                    summary['segm_mAP'] = scores['coco/segm_mAP']
            line += (f"; the same model: mIoU {summary['mIoU']:.2f}, mask "
                     f"AP {100 * summary['segm_mAP']:.1f}")
    if model == 'mask2former':
        reference = maskformer_reference(task)
        summary['maskformer_' + METRIC_NAMES[task].replace(' ', '_')] = \
            reference
        line = (f'Mask2Former {line}; MaskFormer on the same data: '
                f'{METRIC_NAMES[task]} {reference} (configs/metafiles/'
                'demo.yaml)')
    summary.update(model=model, minutes=round((time.time() - start) / 60, 1),
                   iters=iters, checkpoint=checkpoint)
    with open(osp.join(work_dir, 'summary.json'), 'w') as f:
        json.dump(summary, f, indent=2)
    print(f"[demo] {line}, {summary['minutes']} min; summary in "
          f"{osp.join(work_dir, 'summary.json')}")


if __name__ == '__main__':
    main()
