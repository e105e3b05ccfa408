"""Set-up shared by the tools: config loading, and stopping with one
message."""
import contextlib
import os.path as osp
import sys

import torch
from mmengine.config import Config

from .dist import init_cpu_process_group


def load_tool_config(config: str, launcher: str = 'none',
                     cfg_options=None, work_dir=None) -> Config:
    """Load ``config`` as mmseg's tools do (``--cfg-options``, ``--work-dir``,
    default ``./work_dirs/<config name>``), and make ``--launcher pytorch``
    work on machines without a GPU: gloo instead of NCCL, DDP without device
    ids, and a process group started before mmengine's (whose ``init_dist``
    needs CUDA).
    """
    cfg = Config.fromfile(config)
    cfg.launcher = launcher
    if cfg_options is not None:
        cfg.merge_from_dict(cfg_options)
    if work_dir is not None:
        cfg.work_dir = work_dir
    elif cfg.get('work_dir', None) is None:
        cfg.work_dir = osp.join('./work_dirs',
                                osp.splitext(osp.basename(config))[0])
    warn_scope_overrides(cfg)
    if launcher != 'none' and not torch.cuda.is_available():
        cfg.setdefault('env_cfg', {})
        cfg.env_cfg['dist_cfg'] = dict(backend='gloo')
        cfg.setdefault('model_wrapper_cfg', dict(
            type='MMDistributedDataParallel', device_ids=None))
        init_cpu_process_group(launcher)
    return cfg


def build_dataset(config: str, cfg_options=None, split: str = 'test'):
    """(dataset of ``<split>_dataloader``, config), built in the config's
    scope (ours): mmseg's and mmdet's analysis tools build datasets in
    their own registries, where our dataset types do not exist."""
    from mmengine.registry import init_default_scope

    from mmmaskformer.registry import DATASETS
    cfg = load_tool_config(config, cfg_options=cfg_options)
    init_default_scope(cfg.get('default_scope', 'mmmaskformer'))
    return DATASETS.build(cfg[f'{split}_dataloader'].dataset), cfg


@contextlib.contextmanager
def stops_with_one_message(log: bool = False):
    """A ``RunStopped`` (bad sample, non-finite loss, bad checkpoint) ends
    the tool with one ``ERROR (...)`` line on stderr and exit status 1, no
    traceback (README: Reliability); ``log`` also writes it to the run's
    log."""
    from mmmaskformer.errors import RunStopped
    try:
        yield
    except RunStopped as e:
        if log:
            import logging

            from mmengine.logging import print_log
            print_log(f'{type(e).__name__}: {e}', logger='current',
                      level=logging.ERROR)
        print(f'\nERROR ({type(e).__name__}): {e}', file=sys.stderr)
        raise SystemExit(1)


def _typed_entries(cfg):
    """``(key, registry, entry dict, scope the Runner builds it in)`` for the
    runner-level entries of ``cfg`` and the datasets' pipelines."""
    from mmmaskformer import registry as R
    default = cfg.get('default_scope', None)

    def scoped(entry, scope):
        return entry.get('_scope_', None) or scope

    def transforms(key, items, scope):
        for i, t in enumerate(items or []):
            if isinstance(t, (list, tuple)):  # TestTimeAug's lists of lists
                yield from transforms(f'{key}[{i}]', t, scope)
            elif isinstance(t, dict):
                yield f'{key}[{i}]', R.TRANSFORMS, t, scoped(t, scope)
                yield from transforms(f'{key}[{i}]', t.get('transforms'),
                                      scoped(t, scope))

    def dataset(key, d, scope):
        if not isinstance(d, dict):
            return
        scope = scoped(d, scope)
        yield key, R.DATASETS, d, scope
        yield from transforms(f'{key}.pipeline', d.get('pipeline'), scope)
        yield from dataset(f'{key}.dataset', d.get('dataset'), scope)
        for i, sub in enumerate(d.get('datasets') or []):
            yield from dataset(f'{key}.datasets[{i}]', sub, scope)

    def one_or_many(key, registry, value):
        items = value if isinstance(value, (list, tuple)) else [value]
        for i, v in enumerate(items):
            if isinstance(v, dict):
                k = key if len(items) == 1 and v is value else f'{key}[{i}]'
                yield k, registry, v, scoped(v, default)

    for key, registry in (('train_cfg', R.LOOPS), ('val_cfg', R.LOOPS),
                          ('test_cfg', R.LOOPS), ('visualizer', R.VISUALIZERS),
                          ('vis_backends', R.VISBACKENDS),
                          ('log_processor', R.LOG_PROCESSORS),
                          ('optim_wrapper', R.OPTIM_WRAPPERS),
                          ('param_scheduler', R.PARAM_SCHEDULERS),
                          ('custom_hooks', R.HOOKS),
                          ('val_evaluator', R.METRICS),
                          ('test_evaluator', R.METRICS),
                          ('tta_model', R.MODELS)):
        if cfg.get(key, None) is not None:
            yield from one_or_many(key, registry, cfg[key])
    for name, hook in (cfg.get('default_hooks', None) or {}).items():
        if isinstance(hook, dict):
            yield f'default_hooks.{name}', R.HOOKS, hook, scoped(hook,
                                                                 default)
    for loader in ('train_dataloader', 'val_dataloader', 'test_dataloader'):
        dl = cfg.get(loader, None)
        if not isinstance(dl, dict):
            continue
        for part in ('sampler', 'batch_sampler'):
            if isinstance(dl.get(part), dict):
                yield (f'{loader}.{part}', R.DATA_SAMPLERS, dl[part],
                       scoped(dl[part], default))
        yield from dataset(f'{loader}.dataset', dl.get('dataset'), default)


def scope_overrides(cfg) -> list:
    """The entries of ``cfg`` that build another package's class where our
    scope has its own: ``(key, type, scope, theirs, ours)``.

    A ``mmseg::``/``mmdet::`` base stamps ``_scope_`` on every entry it
    defines (and its datasets build their pipelines in that scope), so an
    inherited ``IterBasedTrainLoop``, ``CheckpointHook``, ``LoadAnnotations``
    or ``IoUMetric`` silently becomes mmengine's/mmseg's, without the
    bad-sample policy, exact resume, atomic checkpoints or 16-bit labels.
    """
    from mmmaskformer.registry import SCOPE
    found = []
    for key, registry, entry, scope in _typed_entries(cfg):
        name = entry.get('type')
        if not isinstance(name, str) or scope in (None, SCOPE):
            continue
        with registry.switch_scope_and_registry(SCOPE) as reg:
            ours = reg.get(name)
        if ours is None:
            continue
        with registry.switch_scope_and_registry(scope) as reg:
            theirs = reg.get(name)
        if theirs is not ours:
            found.append((key, name, scope, theirs, ours))
    return found


def warn_scope_overrides(cfg) -> list:
    """Log one warning per entry found by :func:`scope_overrides`."""
    from mmengine.logging import print_log
    found = scope_overrides(cfg)
    for key, name, scope, theirs, ours in found:
        theirs_name = f'{theirs.__module__}.{theirs.__qualname__}' \
            if theirs is not None else 'nothing'
        print_log(
            f'config entry `{key}` ({name}) carries _scope_={scope!r} '
            f'(from a `{scope}::` base) and builds {theirs_name}, not '
            f'{ours.__module__}.{ours.__qualname__}: set '
            f"_scope_='mmmaskformer' on it or write the base out "
            '(README: Reliability)', logger='current', level=30)
    return found
