"""The A/B run: timed training steps of both models, alternating which goes
first every iteration, then one device-independent measured step each.

:func:`run` returns everything as one JSON-able dict (see
``docs/benchmarks.md`` for the fields the figures come from).
"""
import os
import platform
import statistics
import subprocess
from typing import Dict, List, Optional

import torch

from .loss_check import check_losses
from .measures import measure_step
from .models import (
    MASK2FORMER_MODELS,
    build_pair,
    make_batch,
    make_panoptic_batch,
    use_mmdet_pytorch_focal,
)
from .phases import PhaseClock, phase_summary, train_step
from .point_replay import check_point_losses


def mmcv_cuda_focal_available() -> bool:
    """Whether mmcv's fused CUDA focal loss (the baseline's GPU path) runs."""
    try:
        from mmcv.ops import sigmoid_focal_loss
        x = torch.zeros(2, 1, device='cuda')
        sigmoid_focal_loss(x, torch.zeros(2, dtype=torch.long,
                                          device='cuda'), 2.0, 0.25)
        return True
    except Exception:  # noqa: BLE001 (an mmcv built without CUDA ops)
        return False


def baseline_focal_path(device: str, model: str = 'r50') -> str:
    """Choose (and say) which focal-loss code the baseline runs."""
    if model in MASK2FORMER_MODELS:
        return 'none (Mask2Former: BCE and dice on points)'
    if not device.startswith('cuda'):
        return 'mmdet PyTorch focal (the CPU path)'
    if mmcv_cuda_focal_available():
        return 'mmcv CUDA sigmoid_focal_loss'
    use_mmdet_pytorch_focal()
    return 'mmdet PyTorch focal (mmcv has no CUDA ops here)'


def machine(device: str) -> dict:
    return dict(
        device=device,
        device_name=torch.cuda.get_device_name()
        if device.startswith('cuda') else platform.processor() or 'cpu',
        cpu_count=os.cpu_count(), torch_threads=torch.get_num_threads(),
        torch=torch.__version__, python=platform.python_version(),
        # the settings that change CPU figures (docs/benchmarks.md)
        environment={k: v for k, v in os.environ.items()
                     if k.startswith(('MALLOC_', 'OMP_', 'MKL_'))})


def commit() -> str:
    """The checkout's commit, with ``+dirty`` when files differ from it."""
    repo = os.path.dirname(os.path.dirname(os.path.dirname(
        os.path.dirname(os.path.abspath(__file__)))))
    try:
        head = subprocess.run(['git', 'rev-parse', '--short', 'HEAD'],
                              cwd=repo, capture_output=True, text=True,
                              timeout=30).stdout.strip()
        dirty = subprocess.run(['git', 'status', '--porcelain',
                                '--untracked-files=no'], cwd=repo,
                               capture_output=True, text=True,
                               timeout=30).stdout.strip()
    except (OSError, subprocess.SubprocessError):
        return 'unknown'
    return (head or 'unknown') + ('+dirty' if dirty else '')


def medians(rows: List[Dict[str, float]]) -> Dict[str, float]:
    return {k: statistics.median(r[k] for r in rows) for k in rows[0]}


def timed_steps(pair, optimizers, data, device: str, warmup: int,
                iters: int, result: dict) -> Dict[str, Dict[str, list]]:
    """``warmup + iters`` training steps of each model, alternating which
    goes first; per timed step and model the wall and CPU seconds and the
    page faults of every phase (``wall``, ``cpu``, ``faults``), and on CUDA
    the peak memory (``cuda_peak_mib``)."""
    rows = {name: dict(wall=[], cpu=[], faults=[], cuda_peak_mib=[])
            for name, _ in pair.items()}
    cuda = device.startswith('cuda')
    for it in range(warmup + iters):
        order = pair.items() if it % 2 == 0 else pair.items()[::-1]
        for name, m in order:
            clock = PhaseClock(device)
            if cuda:
                torch.cuda.reset_peak_memory_stats()
            result.setdefault('last_losses', {})[name] = train_step(
                m, optimizers[name], data, clock)
            if it < warmup:
                continue
            row = rows[name]
            row['wall'].append(phase_summary(clock.times))
            row['cpu'].append(phase_summary(clock.cpu_times))
            row['faults'].append(phase_summary(clock.page_faults))
            if cuda:
                row['cuda_peak_mib'].append(
                    torch.cuda.max_memory_allocated() / 2**20)
    return rows


def run(model: str = 'r50', size: int = 256, batch: int = 2,
        segments: int = 15, iters: int = 5, warmup: int = 1,
        device: Optional[str] = None, ours_config: Optional[str] = None,
        loss_check: bool = False) -> dict:
    device = device or ('cuda' if torch.cuda.is_available() else 'cpu')
    mask2former = model in MASK2FORMER_MODELS
    # Mask2Former: the loss terms under the same points are always checked
    loss_check = loss_check or mask2former
    settings = dict(model=model, size=size, batch=batch, segments=segments,
                    iters=iters, warmup=warmup, ours_config=ours_config,
                    check_losses=loss_check)
    result = dict(args=settings, machine=machine(device), commit=commit(),
                  baseline_focal=baseline_focal_path(device, model),
                  load_average_at_start=os.getloadavg())
    pair = build_pair(model, size, ours_config, device)
    data = (make_panoptic_batch if mask2former else make_batch)(
        batch, size, segments)
    if loss_check:
        result['loss_check'] = (check_point_losses if mask2former
                                else check_losses)(pair, data)
    optimizers = {name: torch.optim.AdamW(m.parameters(), lr=1e-4)
                  for name, m in pair.items()}
    rows = timed_steps(pair, optimizers, data, device, warmup, iters, result)
    result['load_average_after_timing'] = os.getloadavg()
    # after the timed steps the optimizer states exist, as in training
    result['measures'] = {name: measure_step(m, optimizers[name], data,
                                             device)
                          for name, m in pair.items()}
    wall = {name: r['wall'] for name, r in rows.items()}
    cpu = {name: r['cpu'] for name, r in rows.items()}
    faults = {name: r['faults'] for name, r in rows.items()}
    result.update(ratios(result['measures'], wall))
    median_cpu = {name: medians(r) for name, r in cpu.items()}
    result.update(
        seconds_per_iteration=wall, cpu_seconds_per_iteration=cpu,
        page_faults_per_iteration=faults,
        median_page_faults={name: medians(r) for name, r in faults.items()},
        median_cpu_seconds=median_cpu,
        cpu_speedup_baseline_over_ours={
            k: median_cpu['baseline'][k] / max(median_cpu['ours'][k], 1e-9)
            for k in median_cpu['ours']})
    if device.startswith('cuda'):
        result['cuda_peak_memory_mib'] = {
            name: statistics.median(r['cuda_peak_mib'])
            for name, r in rows.items()}
    if mask2former:
        result['targets'] = mask2former_targets(result)
    return result


# issue 18, "Must show" 4: (what, comparison, limit)
MASK2FORMER_TARGETS = (
    ('loss terms, max |ours - mmdet|', '<=', 1e-4),
    ('peak memory, ours/mmdet', '<=', 0.8),
    ('ops of head + matching + losses, ours/mmdet', '<=', 0.6),
    ('device-to-host syncs of head + matching + losses, ours', '==', 1),
    ('CPU time of head + matching + losses, mmdet/ours', '>=', 1.5),
)


def mask2former_targets(result: dict) -> list:
    """Each target of the Mask2Former comparison with the measured value
    and whether it is met."""
    ratios = result['measure_ratios_ours_over_baseline']
    values = (
        result['loss_check']['max_abs_diff'],
        ratios['peak_memory'],
        ratios['ops_head_matching_losses'],
        sum(result['measures']['ours']['syncs_head_matching_losses']
            .values()),
        result['cpu_speedup_baseline_over_ours']['head_matching_losses'],
    )
    compare = {'<=': lambda v, t: v <= t, '==': lambda v, t: v == t,
               '>=': lambda v, t: v >= t}
    return [dict(target=name, value=value, op=op, limit=limit,
                 met=bool(compare[op](value, limit)))
            for (name, op, limit), value in zip(MASK2FORMER_TARGETS, values)]


def ratios(measures: dict, per_iter: dict) -> dict:
    """Medians per phase, mmseg/ours time ratios (> 1: ours faster) and
    ours/mmseg measure ratios (< 1: ours lighter)."""
    med = {name: medians(rows) for name, rows in per_iter.items() if rows}
    out = dict(median_seconds=med)
    if len(med) == 2:
        out['speedup_baseline_over_ours'] = {
            k: med['baseline'][k] / max(med['ours'][k], 1e-9)
            for k in med['ours']}
    o, b = measures['ours'], measures['baseline']
    out['measure_ratios_ours_over_baseline'] = dict(
        peak_memory=o['peak_memory_mib_by_kind']['Total'] /
        b['peak_memory_mib_by_kind']['Total'],
        ops_head_matching_losses=o['ops_head_matching_losses'] /
        b['ops_head_matching_losses'],
        ops_step=o['ops_step'] / b['ops_step'])
    return out
