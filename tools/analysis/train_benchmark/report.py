"""The result of :func:`~.ab_run.run` as the text the command prints."""
import os.path as osp
from typing import List

# rows of the time table, in step order, then the sums
TIME_ROWS = ('total', 'data', 'backbone', 'targets', 'pixel_decoder',
             'decoder_and_predictions', 'matching', 'losses',
             'head_backward', 'backbone_backward', 'optimizer',
             'head_matching_losses_forward', 'head_matching_losses')
MEMORY_KINDS = ('Parameter', 'Buffer', 'Gradient', 'Optstate', 'Activation',
                'Temp', 'Total')
OP_ROWS = ('ops_head_matching_losses', 'ops_step',
           'ops_step_without_optimizer')
SYNC_ROWS = ('syncs_head_matching_losses', 'syncs_step_outside_optimizer',
             'syncs_optimizer')


def point_loss_check_line(check: dict) -> str:
    """The Mask2Former check (:mod:`.point_replay`)."""
    differing = check['predictions_images_assigned_differently']
    return (f"losses at equal weights, batch and points ({check['points_replayed']}"
            f" recorded draws replayed into mmdet; dropout off), "
            f"{len(check['ours'])} terms: max |diff| = "
            f"{check['max_abs_diff']:.2e} (relative "
            f"{check['max_rel_diff']:.1e}); (prediction, image) assigned "
            f"differently: {differing}")


def loss_check_line(check: dict) -> str:
    if 'points_replayed' in check:
        return point_loss_check_line(check)
    differing = check['layers_images_assigned_differently']
    costs = [(g['ours'], g['baseline']) for g in check['assignment_costs']]
    return (f"losses at equal weights and inputs (dropout off), "
            f"{len(check['ours'])} terms: max |diff| = "
            f"{check['max_abs_diff']:.2e} (relative "
            f"{check['max_rel_diff']:.1e}) with each side's own matching "
            f"((layer, image) assigned differently: {differing}, total costs"
            f" of the two assignments there: {costs}); "
            f"{check['max_abs_diff_same_assignment']:.2e} with ours under "
            f"the baseline's assignment")


def lines(result: dict) -> List[str]:
    args, m = result['args'], result['machine']
    ours = osp.basename(args['ours_config'] or f"ours ({args['model']})")
    out = []
    if 'loss_check' in result:
        out.append(loss_check_line(result['loss_check']))
    med = result['median_seconds']
    speed = result['speedup_baseline_over_ours']
    mask2former = 'mask2former' in args['model']
    baseline = "mmdet's Mask2Former" if mask2former else "mmseg's MaskFormer"
    b = 'mmdet' if mask2former else 'mmseg'  # the baseline's column
    out += [
        f"{ours} vs {baseline} ({args['model']}), "
        f"{args['size']}x{args['size']}, batch {args['batch']}, "
        f"{args['segments']} segments/image, {m['device']} "
        f"({m['device_name']}, {m['torch_threads']} threads, load "
        f"{result['load_average_at_start'][0]:.2f}), medians of "
        f"{args['iters']}, commit {result['commit']}:",
        f"{'phase (wall s | CPU s)':<30}{'ours':>9}{b:>9}"
        f"{b + '/ours':>11} |{'ours':>9}{b:>9}{b + '/ours':>11}"]
    cpu, cpu_speed = result['median_cpu_seconds'], \
        result['cpu_speedup_baseline_over_ours']
    for k in TIME_ROWS:
        out.append(f"{k:<30}{med['ours'][k]:>9.3f}{med['baseline'][k]:>9.3f}"
                   f"{speed[k]:>11.2f} |{cpu['ours'][k]:>9.3f}"
                   f"{cpu['baseline'][k]:>9.3f}{cpu_speed[k]:>11.2f}")
    faults = result['median_page_faults']
    out.append(f"minor page faults per step (CPU allocator): ours "
               f"{faults['ours']['total']:.0f} (losses "
               f"{faults['ours']['losses']:.0f}), {b} "
               f"{faults['baseline']['total']:.0f} (losses "
               f"{faults['baseline']['losses']:.0f}); environment "
               f"{m['environment']}")
    if 'cuda_peak_memory_mib' in result:
        peak = result['cuda_peak_memory_mib']
        out.append(f"cuda peak memory MiB: ours {peak['ours']:.0f}, {b} "
                   f"{peak['baseline']:.0f}")
    mo, mb = result['measures']['ours'], result['measures']['baseline']
    out += ['device-independent (MemTracker peak MiB by kind; dispatched '
            'aten ops; syncs):',
            f"{'measure':<34}{'ours':>12}{b:>12}{'ours/' + b:>12}"]
    for k in MEMORY_KINDS:
        a = mo['peak_memory_mib_by_kind'].get(k, 0)
        c = mb['peak_memory_mib_by_kind'].get(k, 0)
        out.append(f"{'peak ' + k:<34}{a:>12.0f}{c:>12.0f}"
                   f"{(a / c if c else float('nan')):>12.2f}")
    for k in OP_ROWS:
        out.append(f"{k:<34}{mo[k]:>12}{mb[k]:>12}{mo[k] / mb[k]:>12.2f}")
    for k in SYNC_ROWS:
        out.append(f"{k:<34} ours {mo[k]}  {b} {mb[k]}")
    for t in result.get('targets', []):
        out.append(f"target: {t['target']} {t['op']} {t['limit']}: "
                   f"{t['value']:.4g} -> {'met' if t['met'] else 'NOT met'}")
    return out
