"""A config for OpenMMLab's own inferencers.

mmseg's ``MMSegInferencer`` and ``inference_model`` and mmdet's
``DetInferencer`` find the image loader of the test pipeline by its type
name, ``LoadImageFromFile`` (and mmseg's drop ``LoadAnnotations`` by name),
to swap in their in-memory loader. Our configs load with the checking
loaders (``mmmaskformer.LoadCheckedImage`` ...), so those inferencers stop
with "LoadImageFromFile is not found in the test pipeline". Inference never
reads a label file, and the inferencers replace the image loader anyway, so
:func:`upstream_inference_config` gives them the config with the stock
loaders' names in the test pipeline; everything else is unchanged.
"""
import copy
from typing import Union

from mmengine.config import Config

# our loader -> the upstream name the inferencers look for (None: dropped)
UPSTREAM_LOADERS = {
    'mmmaskformer.LoadCheckedImage': 'LoadImageFromFile',
    'mmmaskformer.LoadCheckedAnnotations': None,
    'mmmaskformer.LoadCheckedPanopticAnnotations': None,
}
# arguments of ours that the stock image loader does not take
_OUR_ARGS = ('max_pixels', )


def _stock_pipeline(pipeline: list) -> list:
    out = []
    for transform in pipeline:
        name = transform.get('type')
        if name not in UPSTREAM_LOADERS:
            out.append(transform)
        elif UPSTREAM_LOADERS[name] is not None:
            stock = {k: v for k, v in transform.items() if k not in _OUR_ARGS}
            stock['type'] = UPSTREAM_LOADERS[name]
            out.append(stock)
    return out


def upstream_inference_config(config: Union[str, Config]) -> Config:
    """``config`` (a path or a Config) with a test pipeline that mmseg's and
    mmdet's inferencers can adapt; pass it as their ``model``."""
    cfg = Config.fromfile(config) if isinstance(config, str) else \
        copy.deepcopy(config)
    for holder in (cfg, cfg.get('test_dataloader', {}).get('dataset', {})):
        for key in ('test_pipeline', 'pipeline'):
            if isinstance(holder.get(key), list):
                holder[key] = _stock_pipeline(holder[key])
    return cfg
