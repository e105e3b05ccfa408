"""Training-step benchmark: our MaskFormer against mmseg's (mmdet's head),
in one process, alternating A/B, at equal weights and inputs.

    python tools/analysis/benchmark_train.py [--size 256] [--batch 2]
        [--segments 15] [--iters 5] [--warmup 1] [--device cpu|cuda]
        [--out results.json]

``--model r50``: the R50 ADE20K configs (``configs/maskformer_r50_ade20k.py``
and mmseg's ``maskformer_r50-d32_8xb2-160k_ade20k-512x512.py``, SyncBN
reverted to BN and frozen on both sides); ``--model swin-l``: our Swin-L
config and mmseg's Swin-S MaskFormer config given Swin-L's backbone (mmseg
ships no Swin-L MaskFormer). The baseline receives our weights
(same backbone code, the head mapped key by key), the same images and the
same ground truth: random label maps with ``--segments`` classes per image
(ADE20K averages 10-20). Reported per model, as medians over the timed
iterations: the whole step and its phases (data preprocessing, backbone,
pixel decoder, transformer decoder + predictions, matching, losses,
backward, optimizer step), peak memory (CUDA only) and the loss values; then
the A/B ratios. ``--check-losses`` first compares the 18 loss terms with
dropout off.

Then one step of each model is measured device-independently
(``step_measures.py``): peak memory by kind (parameters, buffers,
gradients, optimizer state, activations, temporaries) from torch's
``MemTracker``, dispatched aten ops per phase (forward and backward of head
+ matching + losses, and the whole step), and host-device syncs by kind and
phase, the optimizer's apart. On CUDA ``torch.cuda.max_memory_allocated``
is recorded next to the tracker's figure.
"""
import argparse
import contextlib
import json
import os
import os.path as osp
import statistics
import sys
import time
from collections import defaultdict

sys.path.insert(0, osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__)))))

import torch  # noqa: E402
from mmengine.config import Config  # noqa: E402
from mmengine.model import revert_sync_batchnorm  # noqa: E402
from mmengine.registry import init_default_scope  # noqa: E402
from mmengine.structures import PixelData  # noqa: E402
from mmseg.structures import SegDataSample  # noqa: E402

import mmmaskformer  # noqa: E402,F401
from mmmaskformer.converters import ours_to_openmmlab  # noqa: E402
from mmmaskformer.registry import MODELS  # noqa: E402

sys.path.insert(0, osp.dirname(osp.abspath(__file__)))
from step_measures import MemoryTracker, OpCounter  # noqa: E402

REPO = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
OURS = osp.join(REPO, 'configs', 'maskformer_r50_ade20k.py')

def use_mmdet_pytorch_focal() -> None:
    """Make mmdet's ``FocalLoss`` take its PyTorch path on CUDA too.

    On CUDA tensors with 1-D targets (MaskFormer's mask loss) it calls
    mmcv's CUDA ``sigmoid_focal_loss``, which the GPU wheels here lack (CPU
    kernels only). The PyTorch path computes the same loss with more
    kernels and memory than mmcv's fused one, so baseline GPU figures
    measured this way are labelled "mmdet PyTorch focal"."""
    import torch.nn.functional as F
    from mmdet.models.losses import focal_loss

    def pytorch_path(pred, target, weight=None, gamma=2.0, alpha=0.25,
                     reduction='mean', avg_factor=None):
        one_hot = F.one_hot(target, num_classes=pred.size(1) + 1)
        return focal_loss.py_sigmoid_focal_loss(
            pred, one_hot[:, :pred.size(1)].type_as(pred), weight, gamma,
            alpha, reduction, avg_factor)

    focal_loss.sigmoid_focal_loss = pytorch_path


def baseline_config(model: str = 'r50') -> str:
    """mmseg's own MaskFormer config, from the installed package (Swin-L:
    its Swin-S config, given Swin-L's backbone by ``build``)."""
    import mmseg
    name = dict(r50='maskformer_r50-d32_8xb2-160k_ade20k-512x512.py',
                **{'swin-l': 'maskformer_swin-s_upernet_8xb2-160k_'
                   'ade20k-512x512.py'})[model]
    return osp.join(osp.dirname(mmseg.__file__), '.mim', 'configs',
                    'maskformer', name)


SWIN_L = dict(pretrain_img_size=384, embed_dims=192, window_size=12,
              depths=[2, 2, 18, 2], num_heads=[6, 12, 24, 48],
              drop_path_rate=0.3)


def build(config, scope, size, swin_l=False):
    cfg = Config.fromfile(config)
    cfg.model.backbone.init_cfg = None
    if 'Swin' in cfg.model.backbone.type:
        if swin_l:  # mmseg ships Swin-T/S MaskFormer configs only
            cfg.model.backbone.update(SWIN_L)
            cfg.model.decode_head.in_channels = [192, 384, 768, 1536]
    else:  # FrozenBN ResNet on both sides
        cfg.model.backbone.norm_cfg = dict(type='BN', requires_grad=False)
        cfg.model.backbone.norm_eval = True
    cfg.model.data_preprocessor.size = (size, size)
    init_default_scope(scope)
    return revert_sync_batchnorm(MODELS.build(cfg.model))


def make_batch(batch, size, segments, num_classes, seed):
    g = torch.Generator().manual_seed(seed)
    inputs, samples = [], []
    for _ in range(batch):
        inputs.append(torch.randint(0, 256, (3, size, size), generator=g,
                                    dtype=torch.uint8))
        # Voronoi regions of `segments` random seeds, distinct classes
        seeds = torch.rand(segments, 2, generator=g) * size
        ys, xs = torch.meshgrid(torch.arange(size), torch.arange(size),
                                indexing='ij')
        d = (ys[None] - seeds[:, 0, None, None])**2 + \
            (xs[None] - seeds[:, 1, None, None])**2
        classes = torch.randperm(num_classes, generator=g)[:segments]
        gt = classes[d.argmin(0)]
        # seg_labels: what our PackSegInputs packs (mmseg's side ignores it)
        s = SegDataSample(metainfo=dict(img_shape=(size, size),
                                        ori_shape=(size, size),
                                        pad_shape=(size, size),
                                        seg_labels=torch.unique(
                                            gt).tolist()))
        s.gt_sem_seg = PixelData(data=gt[None])
        samples.append(s)
    return dict(inputs=inputs, data_samples=samples)


def _loss_key_pairs(ours_losses):
    """Our key -> the baseline's: decode.loss_ce[_i] -> decode[.dI].loss_cls
    (the same for mask and dice)."""
    rename = {'ce': 'cls', 'mask': 'mask', 'dice': 'dice'}
    pairs = {}
    for k in ours_losses:
        parts = k.split('.')[-1].split('_')  # loss, ce, [i]
        pairs[k] = f'decode.loss_{rename[parts[1]]}' if len(parts) == 2 \
            else f'decode.d{parts[2]}.loss_{rename[parts[1]]}'
    return pairs


def check_losses(models, data) -> dict:
    """Both models' losses at equal weights and inputs (dropout off), twice:
    each with its own matching, and ours under the baseline's assignment.

    Hungarian matching has exact ties up to float rounding, and the two
    matchers sum their costs differently (mmdet's focal cost uses
    log(sigmoid + 1e-12), the official one BCE with logits), so a near-tied
    pair may be assigned differently and move a class loss by much more
    than rounding. The second comparison feeds the baseline's assignment to
    our criterion: equal numbers then mean equal losses, not just equal
    matchings on this input.
    """
    from mmmaskformer.structures import FlatMatches
    undo = disable_dropout(models.values())
    base_assigner = models['baseline'].decode_head.assigner
    ours_assigner = models['ours'].decode_head.criterion.assigner
    base_calls, ours_calls = [], []
    base_assign, ours_assign = base_assigner.assign, ours_assigner.assign_flat

    def record_base(pred_instances, gt_instances, *args, **kwargs):
        result = base_assign(pred_instances, gt_instances, *args, **kwargs)
        base_calls.append((gt_instances.labels.cpu(), result.gt_inds.cpu()))
        return result

    def record_ours(cls_logits, mask_logits, targets):
        matches = ours_assign(cls_logits, mask_logits, targets)
        ours_calls.append((targets, matches, cls_logits, mask_logits))
        return matches

    base_assigner.assign, ours_assigner.assign_flat = record_base, record_ours
    losses = {}
    try:
        for name, m in models.items():
            batch = m.data_preprocessor(data, training=True)
            losses[name] = {k: float(v.detach()) for k, v in
                            m(**batch, mode='loss').items()}
        # the baseline calls its assigner per layer, then per image
        targets, own, cls_logits, mask_logits = ours_calls[0]
        num_images = len(targets)
        offsets = [0]
        for t in targets:
            offsets.append(offsets[-1] + len(t.labels))
        rows = []
        for call, (labels, gt_inds) in enumerate(base_calls):
            layer, b = divmod(call, num_images)
            ours_labels = targets[b].labels.tolist()
            for q in torch.nonzero(gt_inds > 0)[:, 0].tolist():
                label = int(labels[gt_inds[q] - 1])
                rows.append((layer, b, q, offsets[b] + ours_labels.index(label)))
        table = torch.tensor(sorted(rows), dtype=torch.long).t()
        forced = FlatMatches(*table.to(own.layer_idx.device))
        own_rows = set(zip(*(x.tolist() for x in own)))
        differing = sorted({(r[0], r[1]) for r in set(rows) ^ own_rows})
        # how close to a tie each differing assignment is, under our costs
        costs = ours_assigner.cost_matrices(cls_logits, mask_logits, targets)
        gaps = []
        for layer, b in differing:
            cost = costs[b][layer].double()
            total = {}
            for side, pairs in (('ours', own_rows), ('baseline', rows)):
                total[side] = float(sum(
                    cost[q, t - offsets[b]] for li, bi, q, t in pairs
                    if (li, bi) == (layer, b)))
            gaps.append(dict(layer=layer, image=b, **total))
        ours_assigner.assign_flat = lambda *a, **k: forced
        batch = models['ours'].data_preprocessor(data, training=True)
        same = {k: float(v.detach()) for k, v in
                models['ours'](**batch, mode='loss').items()}
    finally:
        base_assigner.assign, ours_assigner.assign_flat = base_assign, \
            ours_assign
        restore(undo)
    pairs = _loss_key_pairs(losses['ours'])
    diffs = {k: abs(v - losses['baseline'][pairs[k]])
             for k, v in losses['ours'].items()}
    same_diffs = {k: abs(v - losses['baseline'][pairs[k]])
                  for k, v in same.items()}
    return dict(ours=losses['ours'], baseline=losses['baseline'],
                max_abs_diff=max(diffs.values()),
                layers_images_assigned_differently=differing,
                # total matching cost (ours) of each side's assignment there
                assignment_costs=gaps,
                ours_under_baseline_assignment=same,
                max_abs_diff_same_assignment=max(same_diffs.values()))


def disable_dropout(models) -> list:
    """Turn off every source of randomness in the forward pass: dropout
    layers, the attention-weight dropout of ``nn.MultiheadAttention`` (a
    float attribute, not a module) and stochastic depth (``drop_prob``).
    Returns the undo list for :func:`restore`."""
    undo = []
    for m in models:
        for mod in m.modules():
            for attr in ('p', 'dropout', 'drop_prob'):
                value = getattr(mod, attr, None)
                if isinstance(value, float) and value > 0 and (
                        attr != 'p' or isinstance(mod, torch.nn.Dropout)):
                    undo.append((mod, attr, value))
                    setattr(mod, attr, 0.0)
    return undo


def restore(undo) -> None:
    for mod, attr, value in undo:
        setattr(mod, attr, value)


class PhaseTimer:
    """Wall-clock per phase, synchronising CUDA at each boundary."""

    def __init__(self, device):
        self.device = device
        self.times = defaultdict(float)
        self.handles = []

    def now(self):
        if self.device.startswith('cuda'):
            torch.cuda.synchronize()
        return time.perf_counter()

    @contextlib.contextmanager
    def phase(self, name):
        t0 = self.now()
        yield
        self.times[name] += self.now() - t0

    def hook_module(self, module, name):
        start = {}

        def pre(_m, _a):
            start['t'] = self.now()

        def post(_m, _a, _o):
            self.times[name] += self.now() - start['t']

        self.handles += [module.register_forward_pre_hook(pre),
                         module.register_forward_hook(post)]

    def wrap(self, obj, attr, name):
        fn = getattr(obj, attr)

        def wrapped(*a, **k):
            t0 = self.now()
            try:
                return fn(*a, **k)
            finally:
                self.times[name] += self.now() - t0

        setattr(obj, attr, wrapped)
        return lambda: setattr(obj, attr, fn)


def instrument(model, kind, timer):
    """Hook the phases; returns a function removing the patches."""
    head = model.decode_head
    timer.hook_module(model.backbone, 'backbone')
    timer.hook_module(head.pixel_decoder, 'pixel_decoder')
    undo = []
    if kind == 'ours':
        undo.append(timer.wrap(head.criterion.assigner, 'assign_flat',
                               'matching'))
        undo.append(timer.wrap(head.criterion, 'forward', 'criterion'))
    else:
        undo.append(timer.wrap(head.assigner, 'assign', 'matching'))
        undo.append(timer.wrap(head, 'loss_by_feat', 'criterion'))
    return undo


def train_step(model, optimizer, data, timer):
    with timer.phase('data'):
        batch = model.data_preprocessor(data, training=True)
    with timer.phase('forward_and_losses'):
        losses = model(**batch, mode='loss')
    loss = sum(v for k, v in losses.items() if 'loss' in k)
    with timer.phase('backward'):
        optimizer.zero_grad()
        loss.backward()
    with timer.phase('optimizer'):
        torch.nn.utils.clip_grad_norm_(model.parameters(), 0.01)
        optimizer.step()
    return {k: float(v.detach()) for k, v in losses.items()}


def summarise(times):
    t = dict(times)
    t['losses'] = t.get('criterion', 0) - t.get('matching', 0)
    t['decoder_and_predictions'] = (t['forward_and_losses'] - t['backbone'] -
                                    t['pixel_decoder'] - t.get('criterion', 0))
    t['total'] = (t['data'] + t['forward_and_losses'] + t['backward'] +
                  t['optimizer'])
    t['head_matching_losses'] = (t['pixel_decoder'] +
                                 t['decoder_and_predictions'] + t['matching'] +
                                 t['losses'])
    return t


HEAD_PHASES = ('head', 'matching', 'losses', 'head_backward')


def measured_step(model, kind, optimizer, data, counter=None, tracker=None):
    """One training step under the op counter (phases) or the memory
    tracker. Phases: data, backbone, head (pixel decoder, transformer
    decoder, predictions), matching, losses, head_backward (until the
    first gradient reaches a backbone output), backbone_backward,
    optimizer, logging."""
    counter = counter or OpCounter()
    head = model.decode_head
    handles, undo = [], []

    def set_phase(name):
        counter.phase = name

    def backbone_pre(_m, _a):
        set_phase('backbone')

    def backbone_post(_m, _a, outputs):
        set_phase('head')
        for t in outputs:
            if t.requires_grad:
                t.register_hook(lambda g: set_phase('backbone_backward'))

    handles += [model.backbone.register_forward_pre_hook(backbone_pre),
                model.backbone.register_forward_hook(backbone_post)]

    def wrap(obj, attr, phase):
        fn = getattr(obj, attr)

        def wrapped(*a, **k):
            old = counter.phase
            counter.phase = phase
            try:
                return fn(*a, **k)
            finally:
                counter.phase = old
        setattr(obj, attr, wrapped)
        undo.append(lambda: setattr(obj, attr, fn))

    if kind == 'ours':
        wrap(head.criterion, 'forward', 'losses')
        wrap(head.criterion.assigner, 'assign_flat', 'matching')
    else:
        wrap(head, 'loss_by_feat', 'losses')
        wrap(head.assigner, 'assign', 'matching')
    context = tracker if tracker is not None else counter
    with context:
        set_phase('data')
        batch = model.data_preprocessor(data, training=True)
        losses = model(**batch, mode='loss')
        loss = sum(v for k, v in losses.items() if 'loss' in k)
        set_phase('head_backward')
        optimizer.zero_grad()
        loss.backward()
        set_phase('optimizer')
        torch.nn.utils.clip_grad_norm_(model.parameters(), 0.01)
        optimizer.step()
        set_phase('logging')
    for h in handles:
        h.remove()
    for u in undo:
        u()
    return counter


def summarise_measures(counter, peak=None):
    """Ops and syncs of head + matching + losses and of the whole step."""
    summary = counter.summary()
    ops, syncs = summary['ops'], summary['syncs']
    head_syncs = {}
    for phase in HEAD_PHASES:
        for kind, n in syncs.get(phase, {}).items():
            head_syncs[kind] = head_syncs.get(kind, 0) + n
    outside_opt = {}
    for phase, kinds in syncs.items():
        if phase in ('optimizer', 'logging'):
            continue
        for kind, n in kinds.items():
            outside_opt[kind] = outside_opt.get(kind, 0) + n
    out = dict(
        ops_by_phase=ops,
        syncs_by_phase=syncs,
        ops_head_matching_losses=sum(ops.get(p, 0) for p in HEAD_PHASES),
        ops_step=sum(v for k, v in ops.items() if k != 'logging'),
        ops_step_without_optimizer=sum(
            v for k, v in ops.items() if k not in ('logging', 'optimizer')),
        syncs_head_matching_losses=head_syncs,
        syncs_step_outside_optimizer=outside_opt,
        syncs_optimizer=syncs.get('optimizer', {}),
        # the most frequent aten ops of each head phase (where launches go)
        top_ops_by_phase={
            p: dict(counter.names[p].most_common(25)) for p in HEAD_PHASES
            if p in counter.names})
    if peak is not None:
        out['peak_memory_mib_by_kind'] = {k: v / 2**20
                                          for k, v in peak.items()}
    return out


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('--size', type=int, default=256)
    parser.add_argument('--batch', type=int, default=2)
    parser.add_argument('--segments', type=int, default=15)
    parser.add_argument('--iters', type=int, default=5)
    parser.add_argument('--warmup', type=int, default=1)
    parser.add_argument(
        '--device', default='cuda' if torch.cuda.is_available() else 'cpu')
    parser.add_argument('--model', choices=['r50', 'swin-l'], default='r50')
    parser.add_argument(
        '--ours-config', default=None,
        help='our side (e.g. configs/maskformer_r50-pointsample_ade20k.py '
        'for the memory-efficient mode)')
    parser.add_argument('--check-losses', action='store_true')
    parser.add_argument('--out', default=None)
    args = parser.parse_args()
    dev = args.device
    if dev.startswith('cuda'):
        use_mmdet_pytorch_focal()
    torch.manual_seed(0)
    swin_l = args.model == 'swin-l'
    ours_config = args.ours_config or (
        osp.join(REPO, 'configs', 'maskformer_swin-l_ade20k.py')
        if swin_l else OURS)
    models = dict(
        ours=build(ours_config, 'mmmaskformer', args.size),
        baseline=build(baseline_config(args.model), 'mmseg', args.size,
                       swin_l=swin_l))
    converted = ours_to_openmmlab(models['ours'].state_dict())
    missing, unexpected = models['baseline'].load_state_dict(converted,
                                                             strict=False)
    missing = [k for k in missing if 'num_batches_tracked' not in k]
    assert not missing and not unexpected, (missing[:5], unexpected[:5])
    result = dict(args=vars(args), torch=torch.__version__,
                  baseline_focal='mmdet PyTorch focal (mmcv CUDA op '
                  'bypassed)' if dev.startswith('cuda') else 'mmdet PyTorch '
                  'focal (CPU)',
                  device_name=torch.cuda.get_device_name()
                  if dev.startswith('cuda') else 'cpu')
    for m in models.values():
        m.to(dev).train()
    data = make_batch(args.batch, args.size, args.segments, 150, seed=0)

    if args.check_losses:
        check = result['loss_check'] = check_losses(models, data)
        print(f"losses at equal weights and inputs (dropout off), 18 terms: "
              f"max |diff| = {check['max_abs_diff']:.2e} with each side's "
              f"own matching ((layer, image) assigned differently: "
              f"{check['layers_images_assigned_differently']}, total costs "
              f"of the two assignments there: "
              f"{[(g['ours'], g['baseline']) for g in check['assignment_costs']]}); "
              f"{check['max_abs_diff_same_assignment']:.2e} with ours under "
              f"the baseline's assignment")

    optimizers = {k: torch.optim.AdamW(m.parameters(), lr=1e-4)
                  for k, m in models.items()}
    per_iter = {k: [] for k in models}
    peak = {k: [] for k in models}
    for it in range(args.warmup + args.iters):
        for name in (['ours', 'baseline'] if it % 2 == 0 else
                     ['baseline', 'ours']):  # alternate A/B
            timer = PhaseTimer(dev)
            undo = instrument(models[name], name, timer)
            if dev.startswith('cuda'):
                torch.cuda.reset_peak_memory_stats()
            losses = train_step(models[name], optimizers[name], data, timer)
            for h in timer.handles:
                h.remove()
            for u in undo:
                u()
            if it >= args.warmup:
                per_iter[name].append(summarise(timer.times))
                if dev.startswith('cuda'):
                    peak[name].append(torch.cuda.max_memory_allocated() / 2**20)
            result.setdefault('last_losses', {})[name] = losses
    # device-independent measures: one step each under the op counter and
    # under the memory tracker (after the warm-up, optimizer states exist)
    measures = {}
    for name, m in models.items():
        counter = measured_step(m, name, optimizers[name], data)
        tracker = MemoryTracker()
        tracker.track_external(m, optimizers[name])
        if dev.startswith('cuda'):
            torch.cuda.reset_peak_memory_stats()
        measured_step(m, name, optimizers[name], data, tracker=tracker)
        measures[name] = summarise_measures(counter, tracker.peak_by_kind())
        if dev.startswith('cuda'):
            measures[name]['cuda_max_memory_allocated_mib'] = \
                torch.cuda.max_memory_allocated() / 2**20
    result['measures'] = measures
    o, b = measures['ours'], measures['baseline']
    result['measure_ratios_ours_over_baseline'] = dict(
        peak_memory=o['peak_memory_mib_by_kind']['Total'] /
        b['peak_memory_mib_by_kind']['Total'],
        ops_head_matching_losses=o['ops_head_matching_losses'] /
        b['ops_head_matching_losses'],
        ops_step=o['ops_step'] / b['ops_step'])
    medians = {
        name: {k: statistics.median(r[k] for r in rows) for k in rows[0]}
        for name, rows in per_iter.items()
    }
    result['median_seconds'] = medians
    if peak['ours']:
        result['peak_memory_mib'] = {k: statistics.median(v)
                                     for k, v in peak.items()}
    result['speedup_baseline_over_ours'] = {
        k: medians['baseline'][k] / max(medians['ours'][k], 1e-9)
        for k in medians['ours']
    }
    if peak['ours']:
        result['memory_ratio_ours_over_baseline'] = (
            result['peak_memory_mib']['ours'] /
            result['peak_memory_mib']['baseline'])
    order = ['total', 'data', 'backbone', 'pixel_decoder',
             'decoder_and_predictions', 'matching', 'losses', 'backward',
             'optimizer', 'head_matching_losses']
    print(f"{osp.basename(ours_config)} vs mmseg's MaskFormer "
          f"({args.model}), "
          f"{args.size}x{args.size}, batch {args.batch}, "
          f"{args.segments} segments/image, {dev} ({result['device_name']}), "
          f"medians of {args.iters}:")
    print(f"{'phase':<26}{'ours (s)':>10}{'mmseg (s)':>11}{'mmseg/ours':>12}")
    for k in order:
        print(f'{k:<26}{medians["ours"][k]:>10.3f}'
              f'{medians["baseline"][k]:>11.3f}'
              f'{result["speedup_baseline_over_ours"][k]:>12.2f}')
    if peak['ours']:
        print(f"peak memory MiB: ours {result['peak_memory_mib']['ours']:.0f}"
              f", mmseg {result['peak_memory_mib']['baseline']:.0f}")
    kinds = ['Parameter', 'Buffer', 'Gradient', 'Optstate', 'Activation',
             'Temp', 'Total']
    print('device-independent (MemTracker peak MiB by kind; dispatched aten '
          'ops; syncs):')
    print(f"{'measure':<34}{'ours':>12}{'mmseg':>12}{'ours/mmseg':>12}")
    for k in kinds:
        a = measures['ours']['peak_memory_mib_by_kind'].get(k, 0)
        c = measures['baseline']['peak_memory_mib_by_kind'].get(k, 0)
        print(f'{"peak " + k:<34}{a:>12.0f}{c:>12.0f}'
              f'{(a / c if c else float("nan")):>12.2f}')
    for k in ('ops_head_matching_losses', 'ops_step',
              'ops_step_without_optimizer'):
        a, c = measures['ours'][k], measures['baseline'][k]
        print(f'{k:<34}{a:>12}{c:>12}{a / c:>12.2f}')
    for k in ('syncs_head_matching_losses', 'syncs_step_outside_optimizer',
              'syncs_optimizer'):
        print(f"{k:<34} ours {measures['ours'][k]}  mmseg "
              f"{measures['baseline'][k]}")
    if args.out:
        os.makedirs(osp.dirname(osp.abspath(args.out)), exist_ok=True)
        with open(args.out, 'w') as f:
            json.dump(result, f, indent=2)


if __name__ == '__main__':
    main()
