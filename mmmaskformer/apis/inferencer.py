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
the default is what the config was trained for (the task and model tables
are in :mod:`mmmaskformer.apis.tasks`). Thresholds take the names of the
Hugging Face MaskFormer post-processing; each defaults to the config's
``test_cfg`` and applies to that call only (the model's own ``test_cfg`` is
never changed); a semantic config takes none:

* ``threshold``: a query is kept above this class score (panoptic:
  ``object_mask_threshold``);
* ``overlap_mask_area_threshold``: a segment is kept when its visible area
  is at least this fraction of its own mask (panoptic:
  ``overlap_threshold``);
* ``mask_threshold``: probability above which a pixel is in an instance's
  binary mask (instance; default the config's, else 0.5);
* ``label_ids_to_fuse``: classes whose segments merge into one (panoptic;
  default the stuff classes, the official rule).

Returns ``dict(predictions=[...], visualization=[...])``: per input
``sem_seg`` (H, W) int64; or ``panoptic_seg`` (H, W) int32 (0 = void, ids
from 1) with ``segments_info`` (``id``, ``category_id``, ``isthing``); or
``masks`` (k, H, W) bool (COCO RLE with ``return_rle=True``), ``labels``,
``scores``. ``out_dir`` receives ``vis/<name>.png`` and ``preds/<name>``
(semantic: label PNG; panoptic: COCO panoptic RGB PNG + JSON; instance:
JSON with RLE masks).

``model`` must be a config (a file, a config name, or a ``Config``/dict):
mmengine's ``model=None`` would run the config string stored in the
checkpoint, and a checkpoint is data, never code. The inferencer builds and
runs in our registry scope without changing the process's default scope, so
it works in a fresh interpreter.
"""
import copy
import os
import os.path as osp
from typing import Iterable, Optional

import mmcv
import torch
from mmengine.config import Config, ConfigDict
from mmengine.infer import BaseInferencer
from mmengine.registry import DefaultScope

from mmmaskformer.registry import INFERENCERS, SCOPE

from .tasks import MODEL_KINDS, TASKS, model_kind

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


def load_config(model, weights: Optional[str] = None) -> Config:
    """The inferencer's config: a file, the stem of a file in
    :data:`CONFIG_DIR`, or a ``Config``/dict. Never the checkpoint's: an
    empty config would make mmengine build the model from the config string
    in ``weights``, which is Python and would run."""
    if model is None:
        raise ValueError(
            f'MaskFormerInferencer(model=None, weights={weights!r}): pass the '
            'config file (a path or a config name in configs/); the config '
            'stored in a checkpoint is not used, because config files are '
            'code that runs when loaded and checkpoints are data')
    if isinstance(model, str):
        path = model if osp.isfile(model) else osp.join(CONFIG_DIR,
                                                        model + '.py')
        if not osp.isfile(path):
            raise FileNotFoundError(
                f'{model!r} is neither a config file nor the name of one in '
                f'{CONFIG_DIR}')
        cfg, source = Config.fromfile(path), path
    elif isinstance(model, (Config, ConfigDict, dict)):
        cfg = model if isinstance(model, Config) else Config(dict(model))
        source = 'the config passed as model'
    else:
        raise TypeError(f'model: expected a config file, a config name or a '
                        f'Config, got {type(model).__name__}')
    if 'model' not in cfg:
        raise ValueError(
            f'{source}: no `model` field (the config stored in a checkpoint '
            'is not used: config files are code, checkpoints are data)')
    return cfg


@INFERENCERS.register_module()
class MaskFormerInferencer(BaseInferencer):
    """See the module docstring."""

    def __init__(self, model, weights: Optional[str] = None,
                 device: Optional[str] = None, show_progress: bool = True):
        cfg = load_config(model, weights)
        with DefaultScope.overwrite_default_scope(SCOPE):
            super().__init__(cfg, weights, device, scope=SCOPE,
                             show_progress=show_progress)
        self.kind = model_kind(self.model)
        if self.kind is None:
            raise TypeError(
                f'{type(self.model).__name__} has none of the heads the '
                f'inferencer knows ({", ".join(k.head for k in MODEL_KINDS)})')
        self.default_task = self.kind.default_task

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
    def test_cfg_for(self, task: str, **thresholds) -> Optional[dict]:
        """This call's ``test_cfg``: a copy of the model's with the task's
        switches and the given thresholds (Hugging Face names, ``None`` =
        the config's); ``None`` for a model that takes none."""
        if task not in TASKS:
            raise ValueError(f'task={task!r}: expected one of {tuple(TASKS)}')
        if task not in self.kind.tasks:
            raise ValueError(
                f'task={task!r} needs a panoptic config (a model with '
                f'{" or ".join(k.head for k in MODEL_KINDS if task in k.tasks)}'
                f'); this config\'s {type(self.model).__name__} predicts '
                f'{", ".join(self.kind.tasks)}')
        given = {k: v for k, v in thresholds.items() if v is not None}
        unknown = sorted(set(given) - set(self.kind.thresholds))
        if unknown:
            raise ValueError(
                f'{unknown[0]}={given[unknown[0]]!r} does not apply to this '
                f'config\'s {type(self.model).__name__} (a semantic config '
                'takes no thresholds; set its test_cfg in the config)')
        if not self.kind.thresholds:
            return None
        cfg = dict(self.model.test_cfg, **TASKS[task].switches)
        for name, value in given.items():
            cfg[self.kind.thresholds[name]] = list(value) \
                if isinstance(value, Iterable) else value
        return cfg

    def __call__(self, inputs, task: Optional[str] = None, out_dir: str = '',
                 threshold: Optional[float] = None,
                 mask_threshold: Optional[float] = None,
                 overlap_mask_area_threshold: Optional[float] = None,
                 label_ids_to_fuse: Optional[Iterable[int]] = None,
                 return_rle: bool = False, return_vis: bool = False,
                 show: bool = False, batch_size: int = 1,
                 return_datasamples: bool = False) -> dict:
        task = task or self.default_task
        test_cfg = self.test_cfg_for(
            task, threshold=threshold, mask_threshold=mask_threshold,
            overlap_mask_area_threshold=overlap_mask_area_threshold,
            label_ids_to_fuse=label_ids_to_fuse)
        inputs = self._inputs_to_list(inputs)
        names = [osp.splitext(osp.basename(i))[0] if isinstance(i, str)
                 else f'{k:08d}' for k, i in enumerate(inputs)]
        with DefaultScope.overwrite_default_scope(self.scope):
            preds = []
            for batch in self.preprocess(inputs, batch_size=batch_size):
                preds.extend(self.forward(batch, test_cfg=test_cfg))
            vis = self.visualize(inputs, preds, task, names, out_dir, show,
                                 return_vis)
        return self.postprocess(preds, vis, task, names, out_dir, return_rle,
                                return_datasamples)

    @torch.no_grad()
    def forward(self, inputs, test_cfg: Optional[dict] = None, **kwargs):
        """``model.test_step`` with this call's ``test_cfg``: on a shallow
        copy of the model (every parameter and buffer shared) whose
        ``test_cfg`` is ``test_cfg``, so the inferencer's model is never
        changed, not even while a call runs or when it raises."""
        model = self.model
        if test_cfg is not None:
            model = copy.copy(model)
            model.test_cfg = test_cfg
        return model.test_step(inputs)

    def visualize(self, inputs, preds, task='semantic', names=(),
                  out_dir='', show=False, return_vis=False, **kwargs):
        if not (out_dir or show or return_vis):
            return []
        spec = TASKS[task]
        images = []
        for item, pred, name in zip(inputs, preds, names):
            img = mmcv.imread(item) if isinstance(item, str) else item
            img = img[..., ::-1].copy()  # RGB for the visualizer
            sample = pred.clone()
            for other in TASKS.values():  # draw only this task's field
                if other.field in sample and (
                        other is not spec or
                        not spec.drawable(sample.get(other.field))):
                    delattr(sample, other.field)
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
        spec = TASKS[task]
        results = []
        if out_dir:
            os.makedirs(osp.join(out_dir, 'preds'), exist_ok=True)
        for pred, name in zip(preds, names):
            result = spec.result(pred.get(spec.field), return_rle)
            if out_dir:
                spec.write(result, osp.join(out_dir, 'preds', name))
            results.append(result)
        out = dict(predictions=preds if return_datasamples else results)
        if visualization:
            out['visualization'] = visualization
        return out
