"""One inferencer for the three tasks of a MaskFormer checkpoint.

    from mmmaskformer.apis import MaskFormerInferencer
    inferencer = MaskFormerInferencer(
        model='maskformer_r18-tiny_synthetic-panoptic-64x64',  # or a path
        weights='work_dirs/demo-instance/train/iter_2000.pth', device='cpu')
    out = inferencer('photo.jpg', task='instance', out_dir='outputs')

Built on mmengine's ``BaseInferencer`` (model, pipeline, collate and
visualizer from the config, as mmseg's and mmdet's inferencers): inputs are
a path, a folder, an array (BGR, as loaded) or a list of them. Tasks:
``'semantic'`` (every config; panoptic ones through their probabilistic
semantic inference), ``'panoptic'`` and ``'instance'`` (panoptic configs);
the default is what the config was trained for. Thresholds take the names
of the Hugging Face MaskFormer post-processing; each defaults to the
config's ``test_cfg``:

* ``threshold``: a query is kept above this class score (panoptic:
  ``object_mask_threshold``);
* ``overlap_mask_area_threshold``: a segment is kept when its visible area
  is at least this fraction of its own mask (panoptic:
  ``overlap_threshold``);
* ``mask_threshold``: probability above which a pixel is in an instance's
  binary mask (instance, 0.5);
* ``label_ids_to_fuse``: classes whose segments merge into one (panoptic;
  default the stuff classes, the official rule).

Returns ``dict(predictions=[...], visualization=[...])``: per input
``sem_seg`` (H, W) int64; or ``panoptic_seg`` (H, W) int32 (0 = void, ids
from 1) with ``segments_info`` (``id``, ``category_id``, ``isthing``); or
``masks`` (k, H, W) bool (COCO RLE with ``return_rle=True``), ``labels``,
``scores``. ``out_dir`` receives ``vis/<name>.png`` and ``preds/<name>``
(semantic: label PNG; panoptic: COCO panoptic RGB PNG + JSON; instance:
JSON with RLE masks).
"""
import copy
import json
import os
import os.path as osp
from typing import Iterable, Optional

import mmcv
import numpy as np
from mmengine.infer import BaseInferencer

from mmmaskformer.registry import INFERENCERS, SCOPE
from mmmaskformer.utils.rle import coco_rle

TASKS = ('semantic', 'panoptic', 'instance')
# the package's .mim/configs (copies in a wheel, a link in an editable
# install); a checkout that was never installed has only its configs/
_PACKAGE = osp.dirname(osp.dirname(osp.realpath(__file__)))
_MIM_CONFIGS = osp.join(_PACKAGE, '.mim', 'configs')
CONFIG_DIR = _MIM_CONFIGS if osp.isdir(_MIM_CONFIGS) else osp.join(
    osp.dirname(_PACKAGE), 'configs')
_ANNOTATION_LOADERS = ('LoadAnnotations', 'mmdet.LoadPanopticAnnotations',
                       'mmmaskformer.LoadCheckedAnnotations',
                       'mmmaskformer.LoadCheckedPanopticAnnotations',
                       'mmmaskformer.DropCrowdInstances')
_IMAGE_LOADERS = ('LoadImageFromFile', 'mmmaskformer.LoadCheckedImage')


def _rle(masks) -> list:
    return [coco_rle(m) for m in masks]


@INFERENCERS.register_module()
class MaskFormerInferencer(BaseInferencer):
    """See the module docstring."""

    def __init__(self, model, weights: Optional[str] = None,
                 device: Optional[str] = None, show_progress: bool = True):
        if isinstance(model, str) and not osp.isfile(model):
            path = osp.join(CONFIG_DIR, model + '.py')
            if not osp.isfile(path):
                raise FileNotFoundError(
                    f'{model!r} is neither a config file nor the name of one '
                    f'in {CONFIG_DIR}')
            model = path
        super().__init__(model, weights, device, scope=SCOPE,
                         show_progress=show_progress)
        self.panoptic = hasattr(self.model, 'panoptic_head')
        self.default_task = 'panoptic' if self.panoptic else 'semantic'

    # ------------------------------------------------------------ building
    def _load_weights_to_model(self, model, checkpoint, cfg) -> None:
        """Weights, and the class names and palette: the checkpoint's
        ``dataset_meta``, else the test dataset's (built lazily in our
        scope)."""
        super()._load_weights_to_model(model, checkpoint, cfg)
        meta = (checkpoint or {}).get('meta', {}).get('dataset_meta')
        if meta is None:
            from mmmaskformer.registry import DATASETS
            dataset = dict(cfg.test_dataloader.dataset, lazy_init=True)
            meta = DATASETS.build(dataset).metainfo
        model.dataset_meta = meta

    def _init_pipeline(self, cfg):
        from mmengine.dataset import Compose
        steps = []
        for step in copy.deepcopy(cfg.test_dataloader.dataset.pipeline):
            if step['type'] in _ANNOTATION_LOADERS:
                continue
            if step['type'] in _IMAGE_LOADERS:
                step = dict(type='mmdet.InferencerLoader')
            if 'meta_keys' in step:  # no image id for a user's photo
                step['meta_keys'] = tuple(k for k in step['meta_keys']
                                          if k != 'img_id')
            steps.append(step)
        return Compose(steps)

    def _init_visualizer(self, cfg):
        from mmmaskformer.registry import VISUALIZERS
        visualizer_cfg = dict(cfg.visualizer)
        visualizer_cfg.update(name=f'maskformer-inferencer-{id(self)}',
                              save_dir=None)
        visualizer_cfg.pop('vis_backends', None)
        visualizer = VISUALIZERS.build(visualizer_cfg)
        visualizer.dataset_meta = self.model.dataset_meta
        return visualizer

    # ------------------------------------------------------------- running
    def __call__(self, inputs, task: Optional[str] = None, out_dir: str = '',
                 threshold: Optional[float] = None,
                 mask_threshold: float = 0.5,
                 overlap_mask_area_threshold: Optional[float] = None,
                 label_ids_to_fuse: Optional[Iterable[int]] = None,
                 return_rle: bool = False, return_vis: bool = False,
                 show: bool = False, batch_size: int = 1,
                 return_datasamples: bool = False) -> dict:
        task = task or self.default_task
        if task not in TASKS:
            raise ValueError(f'task={task!r}: expected one of {TASKS}')
        if task != 'semantic' and not self.panoptic:
            raise ValueError(f'task={task!r} needs a panoptic config; this '
                             'one is semantic')
        inputs = self._inputs_to_list(inputs)
        saved = dict(self.model.test_cfg) if self.panoptic else None
        if self.panoptic:
            cfg = self.model.test_cfg
            cfg.update(semantic_on=task == 'semantic',
                       instance_on=task == 'instance')
            if threshold is not None:
                cfg['object_mask_threshold'] = threshold
            if overlap_mask_area_threshold is not None:
                cfg['overlap_threshold'] = overlap_mask_area_threshold
            if label_ids_to_fuse is not None:
                cfg['label_ids_to_fuse'] = list(label_ids_to_fuse)
            cfg['mask_threshold'] = mask_threshold
        try:
            preds = []
            for batch in self.preprocess(inputs, batch_size=batch_size):
                preds.extend(self.forward(batch))
        finally:
            if saved is not None:
                self.model.test_cfg.clear()
                self.model.test_cfg.update(saved)
        names = [osp.splitext(osp.basename(i))[0] if isinstance(i, str)
                 else f'{k:08d}' for k, i in enumerate(inputs)]
        vis = self.visualize(inputs, preds, task, names, out_dir, show,
                             return_vis)
        return self.postprocess(preds, vis, task, names, out_dir, return_rle,
                                return_datasamples)

    def visualize(self, inputs, preds, task='semantic', names=(),
                  out_dir='', show=False, return_vis=False, **kwargs):
        if not (out_dir or show or return_vis):
            return []
        images = []
        for item, pred, name in zip(inputs, preds, names):
            img = mmcv.imread(item) if isinstance(item, str) else item
            img = img[..., ::-1].copy()  # RGB for the visualizer
            sample = pred.clone()
            for key, keep in (('pred_sem_seg', 'semantic'),
                              ('pred_panoptic_seg', 'panoptic'),
                              ('pred_instances', 'instance')):
                if task != keep and key in sample:
                    delattr(sample, key)
            if 'pred_panoptic_seg' in sample and not \
                    sample.pred_panoptic_seg.segments_info:
                # all void (nothing above the threshold): mmdet's
                # visualizer cannot draw an empty panoptic map
                delattr(sample, 'pred_panoptic_seg')
            out_file = osp.join(out_dir, 'vis', f'{name}.png') \
                if out_dir else None
            self.visualizer.add_datasample(name, img, sample, draw_gt=False,
                                           draw_pred=True, show=show,
                                           out_file=out_file)
            images.append(self.visualizer.get_image())
        return images

    def postprocess(self, preds, visualization, task='semantic', names=(),
                    out_dir='', return_rle=False, return_datasamples=False,
                    **kwargs) -> dict:
        results = []
        if out_dir:
            os.makedirs(osp.join(out_dir, 'preds'), exist_ok=True)
        for pred, name in zip(preds, names):
            if task == 'semantic':  # mmseg: `data`; mmdet: `sem_seg`
                labels = pred.pred_sem_seg.get(
                    'data', pred.pred_sem_seg.get('sem_seg'))
                result = dict(
                    sem_seg=labels[0].cpu().numpy().astype(np.int64))
            elif task == 'panoptic':
                pan = pred.pred_panoptic_seg
                result = dict(
                    panoptic_seg=pan.panoptic_seg[0].cpu().numpy(),
                    segments_info=copy.deepcopy(pan.segments_info))
            else:
                result = self._instances(pred.pred_instances, return_rle)
            if out_dir:
                self._write(result, task, osp.join(out_dir, 'preds', name))
            results.append(result)
        out = dict(predictions=preds if return_datasamples else results)
        if visualization:
            out['visualization'] = visualization
        return out

    # ------------------------------------------------------------ formats
    @staticmethod
    def _instances(instances, return_rle: bool) -> dict:
        masks = instances.masks.cpu().numpy().astype(bool)
        return dict(labels=instances.labels.cpu().numpy(),
                    scores=instances.scores.cpu().numpy(),
                    masks=_rle(masks) if return_rle else masks)

    @staticmethod
    def _write(result: dict, task: str, stem: str) -> None:
        from mmmaskformer.evaluation.iou_metric import save_label_map
        if task == 'semantic':
            save_label_map(result['sem_seg'], stem + '.png')
        elif task == 'panoptic':
            from panopticapi.utils import id2rgb
            mmcv.imwrite(id2rgb(result['panoptic_seg'])[..., ::-1],
                         stem + '.png')
            with open(stem + '.json', 'w') as f:
                json.dump(dict(segments_info=result['segments_info']), f)
        else:
            masks = result['masks']
            if len(masks) and not isinstance(masks[0], dict):
                masks = _rle(masks)
            with open(stem + '.json', 'w') as f:
                json.dump(dict(labels=result['labels'].tolist(),
                               scores=result['scores'].tolist(),
                               masks=masks), f)
