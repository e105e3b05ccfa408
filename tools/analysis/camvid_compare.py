"""Real data: train ours (exact), ours (memory-efficient) and mmseg's
MaskFormer on CamVid for the same number of iterations, from scratch with
identical seeds, and report val mIoU.

    python tools/analysis/camvid_compare.py [--iters 20000] [--seeds 0 1]
        [--variants exact pointsample mmseg] [--reduced]
        [--data-root ../shared/data/camvid] [--work-dir work_dirs/camvid]

Full size is configs/maskformer_r50_camvid.py (R50, crop 352x480, batch 8),
meant for a GPU. ``--reduced`` is the CPU version: a ResNet-18 with half
the channels, a 128-wide head with 50 queries, 4 heads and FFN 512, images at
half resolution (crop 176x240) and batch 4, on both sides. The mmseg
baseline gets the same backbone, data pipeline, optimizer and schedule; only
the head is mmseg's (mmdet's MaskFormerHead), with the same sizes.
Results (mIoU per run, mean and seed-to-seed spread per variant) are printed
and written to WORK_DIR/results.json.
"""
import argparse
import copy
import json
import os
import os.path as osp
import statistics
import subprocess
import sys

REPO = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
sys.path.insert(0, REPO)
CONFIG = osp.join(REPO, 'configs', 'maskformer_r50_camvid.py')
POINTS = osp.join(REPO, 'configs', 'maskformer_r50-pointsample_ade20k.py')


def mmseg_head(ours_head: dict) -> dict:
    """mmseg's MaskFormerHead with the sizes of our head."""
    import mmseg
    from mmengine.config import Config
    base = Config.fromfile(osp.join(
        osp.dirname(mmseg.__file__), '.mim', 'configs', 'maskformer',
        'maskformer_r50-d32_8xb2-160k_ade20k-512x512.py'))
    head = copy.deepcopy(base.model.decode_head.to_dict())
    k = ours_head['num_classes']
    dim = ours_head['transformer_decoder']['hidden_dim']
    head.update(num_classes=k, in_channels=list(ours_head['in_channels']),
                feat_channels=ours_head['pixel_decoder']['conv_dim'],
                out_channels=ours_head['pixel_decoder']['mask_dim'],
                num_queries=ours_head['transformer_decoder']['num_queries'])
    head['loss_cls']['class_weight'] = [1.0] * k + [0.1]
    head['positional_encoding'] = dict(num_feats=dim // 2, normalize=True)
    layer = head['transformer_decoder']['layer_cfg']
    heads = ours_head['transformer_decoder']['num_heads']
    for attn in ('self_attn_cfg', 'cross_attn_cfg'):
        layer[attn].update(embed_dims=dim, num_heads=heads)
    layer['ffn_cfg'].update(
        embed_dims=dim,
        feedforward_channels=ours_head['transformer_decoder']
        ['dim_feedforward'])
    head['pixel_decoder'].update(feat_channels=head['feat_channels'],
                                 out_channels=head['out_channels'])
    head['_scope_'] = 'mmseg'
    return head


def variant_config(variant: str, reduced: bool, data_root: str, iters: int,
                   seed: int, out: str) -> str:
    from mmengine.config import Config
    cfg = Config.fromfile(CONFIG)
    cfg.data_root = data_root
    for loader in ('train_dataloader', 'val_dataloader', 'test_dataloader'):
        cfg[loader].dataset.data_root = data_root
    if reduced:
        cfg.model.backbone.update(depth=18, stem_channels=32,
                                  base_channels=32)
        head = cfg.model.decode_head
        head.in_channels = [32, 64, 128, 256]
        head.pixel_decoder.update(conv_dim=128, mask_dim=128)
        head.transformer_decoder.update(hidden_dim=128, num_queries=50,
                                        num_heads=4, dim_feedforward=512)
        crop = (176, 240)
        cfg.crop_size = crop
        cfg.model.data_preprocessor.size = crop
        pipe = cfg.train_dataloader.dataset.pipeline
        pipe[2].scales = [int(180 * x * 0.1) for x in range(5, 21)]
        pipe[2].max_size = 960
        pipe[3].crop_size = crop
        test = cfg.val_dataloader.dataset.pipeline
        test.insert(1, dict(type='Resize', scale=(240, 180), keep_ratio=True))
        cfg.train_dataloader.batch_size = 4
        for loader in ('train_dataloader', 'val_dataloader'):
            cfg[loader].num_workers = 1
        cfg.test_dataloader = cfg.val_dataloader
    if variant == 'pointsample':
        points = Config.fromfile(POINTS).model.decode_head.criterion
        cfg.model.decode_head.criterion.update(
            num_points=points.num_points,
            oversample_ratio=points.oversample_ratio,
            importance_sample_ratio=points.importance_sample_ratio)
        cfg.model.decode_head.criterion.assigner.num_points = \
            points.assigner.num_points
    elif variant == 'mmseg':
        cfg.model.decode_head = mmseg_head(cfg.model.decode_head.to_dict())
    cfg.train_cfg.max_iters = iters
    cfg.train_cfg.val_interval = iters
    cfg.param_scheduler[0].end = iters
    cfg.default_hooks.checkpoint.interval = iters
    cfg.randomness = dict(seed=seed)
    path = osp.join(out, f'{variant}_seed{seed}.py')
    os.makedirs(out, exist_ok=True)
    cfg.dump(path)
    return path


def final_miou(work_dir: str) -> float:
    """The last mIoU of the newest run under ``work_dir``."""
    from analyze_logs import find_scalars, load_scalars
    series = load_scalars(find_scalars(work_dir))
    return series['mIoU'][-1][1] if 'mIoU' in series else None


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('--iters', type=int, default=20000)
    parser.add_argument('--seeds', type=int, nargs='+', default=[0, 1])
    parser.add_argument('--variants', nargs='+',
                        default=['exact', 'pointsample', 'mmseg'])
    parser.add_argument('--reduced', action='store_true')
    parser.add_argument('--data-root',
                        default=osp.join(REPO, '..', 'shared', 'data',
                                         'camvid'))
    parser.add_argument('--work-dir',
                        default=osp.join(REPO, 'work_dirs', 'camvid'))
    args = parser.parse_args()
    if not osp.isdir(osp.join(args.data_root, 'images', 'train')):
        raise SystemExit(f'CamVid not found under {args.data_root} '
                         '(images/train, labels/train)')
    results = {}
    for variant in args.variants:
        for seed in args.seeds:
            name = f'{variant}_seed{seed}'
            work = osp.join(args.work_dir, name)
            cfg = variant_config(variant, args.reduced, args.data_root,
                                 args.iters, seed, args.work_dir)
            print(f'[camvid] training {name} for {args.iters} iterations',
                  flush=True)
            subprocess.run([sys.executable, 'tools/train.py', cfg,
                            '--work-dir', work], cwd=REPO, check=True)
            results[name] = final_miou(work)
            print(f'[camvid] {name}: val mIoU {results[name]}', flush=True)
    summary = {}
    for variant in args.variants:
        vals = [results[f'{variant}_seed{s}'] for s in args.seeds]
        summary[variant] = dict(
            mIoU=vals, mean=statistics.mean(vals),
            spread=(max(vals) - min(vals)) if len(vals) > 1 else None)
    out = dict(args=vars(args), runs=results, summary=summary)
    with open(osp.join(args.work_dir, 'results.json'), 'w') as f:
        json.dump(out, f, indent=2)
    for variant, s in summary.items():
        print(f"[camvid] {variant}: mIoU {s['mIoU']} mean {s['mean']:.2f}"
              + (f", seed spread {s['spread']:.2f}" if s['spread'] is not None
                 else ''))


if __name__ == '__main__':
    main()
