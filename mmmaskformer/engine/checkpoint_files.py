"""Where a config's checkpoint hook writes, and the newest complete file there.

``--resume`` without a path must look where the hook writes, which is not
always the work dir: mmengine's ``CheckpointHook`` puts its files in
``<out_dir>/<basename of work_dir>`` when ``out_dir`` is set, and names them
with ``filename_tmpl`` (``iter_{}.pth`` / ``epoch_{}.pth`` by default).
``last_checkpoint`` is read as a hint only: a run of mmengine's own hook can
leave it naming a partial or deleted file, so every candidate is checked
with :func:`~mmmaskformer.utils.checkpoint.checkpoint_problem` and the newest
complete one wins.
"""
import os
import os.path as osp
import re
import string
from typing import List, Optional, Tuple

from mmmaskformer.utils.checkpoint import checkpoint_problem

from .atomic_file_backend import is_remote


def template_pattern(filename_tmpl: str) -> 're.Pattern':
    """A regex matching ``filename_tmpl.format(step)`` for any step, with the
    step as group 1 (no group for a template without a field)."""
    parts = []
    fields = 0
    for literal, field, _spec, _conv in string.Formatter().parse(
            filename_tmpl):
        parts.append(re.escape(literal))
        if field is not None:
            fields += 1
            parts.append(r'(\d+)' if fields == 1 else r'\d+')
    return re.compile('^' + ''.join(parts) + '$')


def hook_settings(cfg) -> Tuple[Optional[str], str]:
    """``(out_dir, filename_tmpl)`` of ``cfg.default_hooks.checkpoint``,
    with mmengine's defaults."""
    hook = (cfg.get('default_hooks') or {}).get('checkpoint') or {}
    by_epoch = hook.get('by_epoch', True)
    tmpl = hook.get('filename_tmpl') or ('epoch_{}.pth' if by_epoch
                                         else 'iter_{}.pth')
    return hook.get('out_dir'), tmpl


def checkpoint_dir(work_dir: str, out_dir: Optional[str]) -> str:
    """The folder mmengine's ``CheckpointHook.before_train`` writes to (the
    Runner makes ``work_dir`` absolute; ``out_dir`` is compared as given)."""
    work_dir = osp.abspath(work_dir)
    if out_dir is None or str(out_dir) == work_dir:
        return work_dir
    return osp.join(str(out_dir), osp.basename(work_dir.rstrip(osp.sep)))


def _step(pattern, name: str) -> Optional[int]:
    m = pattern.match(name)
    if m is None:
        return None
    return int(m.group(1)) if m.groups() else 0


def find_last_checkpoint(cfg) -> Tuple[Optional[str], List[str]]:
    """The newest complete checkpoint of the run ``cfg`` describes.

    Returns (path or None, messages: where it looked, and the incomplete
    files it passed over).
    """
    out_dir, tmpl = hook_settings(cfg)
    if is_remote(out_dir):
        return None, [f'--resume: default_hooks.checkpoint.out_dir={out_dir} '
                      'is remote; give the checkpoint as --resume PATH']
    pattern = template_pattern(tmpl)
    folder = checkpoint_dir(cfg.work_dir, out_dir)
    folders = [osp.abspath(folder)]
    pointer = osp.join(osp.abspath(cfg.work_dir), 'last_checkpoint')
    hinted = None
    if osp.isfile(pointer):
        with open(pointer, encoding='utf-8', errors='replace') as f:
            hinted = f.read().strip() or None
        hinted = osp.abspath(hinted) if hinted else None
        if hinted and osp.dirname(hinted) not in folders:
            folders.append(osp.dirname(hinted))
    found = {}
    for d in folders:
        if not osp.isdir(d):
            continue
        for name in os.listdir(d):
            step = _step(pattern, name)
            if step is not None:
                found[osp.join(d, name)] = step
    if hinted and hinted not in found and osp.isfile(hinted):
        step = _step(pattern, osp.basename(hinted))
        found[hinted] = -1 if step is None else step
    passed_over = []
    for path, _ in sorted(found.items(), key=lambda kv: (kv[1], kv[0]),
                          reverse=True):
        problem = checkpoint_problem(path)
        if problem is None:
            return path, passed_over
        passed_over.append(f'{path}: {problem}; passed over')
    if not found:
        passed_over.append(f'--resume: no {tmpl!r} checkpoint in {folder}')
    return None, passed_over
