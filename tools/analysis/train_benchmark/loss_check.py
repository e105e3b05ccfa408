"""The 18 loss terms of both models at equal weights and inputs.

Compared twice:

1. each side with its own matching;
2. ours under the baseline's assignment, passed to our criterion through
   its ``matches`` argument.

Hungarian matching has exact ties up to float rounding, and the two
matchers sum their costs differently (mmdet's focal cost uses
``log(sigmoid + 1e-12)``, the official one BCE with logits), so a near-tied
pair may be assigned differently and move a class loss by much more than
rounding. The second comparison removes that: equal numbers there mean
equal losses, not just equal matchings on this input. For each (layer,
image) assigned differently, both assignments are priced under our costs.

Dropout is off (both models in eval mode, which changes nothing else on
this path: the backbones' BatchNorm is frozen either way).
"""
from typing import Dict, List, Tuple

import torch

from mmmaskformer.structures import FlatMatches

from .phases import loss_values
from .probes import argument, probe_of

Row = Tuple[int, int, int, int]  # layer, image, query, target (all images)


def loss_key_pairs(ours: Dict[str, float]) -> Dict[str, str]:
    """Our key -> the baseline's: ``decode.loss_ce[_i]`` ->
    ``decode[.dI].loss_cls`` (the same for mask and dice)."""
    rename = {'ce': 'cls', 'mask': 'mask', 'dice': 'dice'}
    pairs = {}
    for key in ours:
        parts = key.split('.')[-1].split('_')  # loss, ce, [i]
        pairs[key] = f'decode.loss_{rename[parts[1]]}' if len(parts) == 2 \
            else f'decode.d{parts[2]}.loss_{rename[parts[1]]}'
    return pairs


def baseline_rows(calls, targets) -> List[Row]:
    """The baseline's assignment as our rows. mmdet's head calls its
    assigner per layer, then per image, with the image's labels; a
    semantic target is one class, so labels identify our target index."""
    offsets = [0]
    for t in targets:
        offsets.append(offsets[-1] + len(t.labels))
    rows = []
    for call, (args, kwargs, result) in enumerate(calls):
        layer, b = divmod(call, len(targets))
        labels = argument(args, kwargs, 1, 'gt_instances').labels.tolist()
        ours_labels = targets[b].labels.tolist()
        gt_inds = result.gt_inds.cpu()
        for q in torch.nonzero(gt_inds > 0)[:, 0].tolist():
            label = labels[int(gt_inds[q]) - 1]
            rows.append((layer, b, q, offsets[b] + ours_labels.index(label)))
    return sorted(rows)


def _rows(matches: FlatMatches) -> set:
    return set(zip(*(x.tolist() for x in matches)))


def assignment_costs(assigner, inputs, own: set, theirs: set, targets):
    """Total cost under ours of each side's assignment, per (layer, image)
    that the two assign differently."""
    offsets = [0]
    for t in targets:
        offsets.append(offsets[-1] + len(t.labels))
    costs = assigner.cost_matrices(*inputs)  # per image (L, Q, M_b)
    out = []
    for layer, b in sorted({(r[0], r[1]) for r in own ^ theirs}):
        cost = costs[b][layer].double()
        total = {side: float(sum(cost[q, t - offsets[b]]
                                 for li, bi, q, t in rows
                                 if (li, bi) == (layer, b)))
                 for side, rows in (('ours', own), ('baseline', theirs))}
        out.append(dict(layer=layer, image=b, **total))
    return out


def check_losses(pair, data) -> dict:
    """Both sides' loss terms (dropout off), the differences, and ours
    under the baseline's assignment."""
    ours_probe, base_probe = probe_of(pair.ours), probe_of(pair.baseline)
    losses = {}
    try:
        for name, model in pair.items():
            model.eval()
        with ours_probe.recording() as ours_calls, \
                base_probe.recording() as base_calls:
            for name, model in pair.items():
                batch = model.data_preprocessor(data, training=True)
                losses[name] = loss_values(model(**batch, mode='loss'))
        args, kwargs, own = ours_calls[0]
        cls_logits, mask_logits, targets = (
            argument(args, kwargs, i, name) for i, name in enumerate(
                ('cls_logits', 'mask_logits', 'targets')))
        theirs = baseline_rows(base_calls, targets)
        forced = FlatMatches(*torch.tensor(theirs, dtype=torch.long).t().to(
            own.layer_idx.device))
        criterion = pair.ours.decode_head.criterion
        same = loss_values({
            'decode.' + k: v for k, v in criterion(
                cls_logits, mask_logits, targets, matches=forced).items()})
        gaps = assignment_costs(ours_probe, (cls_logits, mask_logits,
                                             targets),
                                _rows(own), set(theirs), targets)
    finally:
        for name, model in pair.items():
            model.train()
    keys = loss_key_pairs(losses['ours'])
    base = losses['baseline']
    diffs = {k: abs(v - base[keys[k]]) for k, v in losses['ours'].items()}
    same_diffs = {k: abs(v - base[keys[k]]) for k, v in same.items()}
    return dict(ours=losses['ours'], baseline=base,
                key_pairs=keys,
                abs_diff=diffs,
                max_abs_diff=max(diffs.values()),
                # float32 keeps ~7 digits: the mask terms (weight 20) are
                # 10-20, where one rounding step is 1-2e-6
                max_rel_diff=max(d / max(abs(base[keys[k]]), 1e-12)
                                 for k, d in diffs.items()),
                layers_images_assigned_differently=[
                    [g['layer'], g['image']] for g in gaps],
                # total matching cost (ours) of each side's assignment there
                assignment_costs=gaps,
                ours_under_baseline_assignment=same,
                max_abs_diff_same_assignment=max(same_diffs.values()))
