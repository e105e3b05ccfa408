"""Every command and snippet that the README, docs/ and configs/README.md
show is run as a fresh process, as written.

``test_every_documented_command_is_covered`` lists them from the Markdown
(each line of a ``bash`` block, each ``python`` block) and fails on one that
is not in ``RUN`` or ``COVERED``, so that a new command cannot go untested:

- ``RUN``: run here, verbatim, in a user's folder (``sandbox``) holding the
  repository's tools/configs/demo, the generated demo data at
  ``data/synthetic`` and demo checkpoints at the documented paths (trained
  for one iteration);
- ``COVERED``: commands on real datasets, many GPUs or a cluster; the named
  test runs the same tool as a fresh process on the tiny configs (the
  listing test checks that it names the tool and starts a process).
"""
import glob
import os
import os.path as osp
import re
import shutil
import subprocess
import sys

import pytest

REPO = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
PAGES = ['README.md', 'configs/README.md'] + sorted(
    osp.relpath(p, REPO) for p in glob.glob(osp.join(REPO, 'docs', '*.md')))
BIN = osp.dirname(sys.executable)


def _normalise(command: str) -> str:
    return re.sub(r'\s+', ' ', command).strip()


def documented():
    """(page, kind, text): every command line of the bash blocks and every
    python block of the documentation."""
    out = []
    for page in PAGES:
        with open(osp.join(REPO, page), encoding='utf-8') as f:
            text = f.read()
        for lang, body in re.findall(r'```(\w*)\n(.*?)```', text, re.S):
            if lang == 'bash':
                for line in body.replace('\\\n', ' ').splitlines():
                    line = re.sub(r'\s+#.*$', '', line).strip()
                    if line and not line.startswith('#'):
                        out.append((page, 'bash', _normalise(line)))
            elif lang == 'python':
                out.append((page, 'python', body))
    return out


def snippet_key(body: str) -> str:
    """A python block is keyed by its first line that is not blank."""
    return next(line for line in body.splitlines() if line.strip()).strip()


# ----------------------------------------------------------------- coverage
# command -> the test that runs its tool as a fresh process (tiny settings)
COVERED = {
    # Mask2Former checkpoints of mmdet/mmseg, and the A/B harness against mmdet's
    'python tools/convert_mmseg_checkpoint.py mask2former_r50_8xb2-lsj-50e_coco-panoptic.pth checkpoints/mask2former_r50_coco-panoptic_from_mmdet.pth --config configs/mask2former_r50_coco-panoptic.py': 'tests/converters/test_mmdet_mask2former_checkpoint.py::test_convert_tool_converts_an_mmdet_mask2former_checkpoint',
    'python tools/convert_mmseg_checkpoint.py mask2former_r50_8xb2-160k_ade20k-512x512.pth checkpoints/mask2former_r50_ade20k_from_mmseg.pth --config configs/mask2former_r50_ade20k.py': 'tests/converters/test_mmdet_mask2former_checkpoint.py::test_convert_tool_converts_an_mmdet_mask2former_checkpoint',
    'MALLOC_MMAP_MAX_=0 MALLOC_TRIM_THRESHOLD_=68719476736 OMP_NUM_THREADS=1 python tools/analysis/benchmark_train.py --model mask2former-r50 --size 512 --batch 2 --iters 3 --warmup 1 --out docs/benchmark_cpu_mask2former_r50_512.json': 'tests/tools/test_benchmark_train.py::test_benchmark_train_mask2former_losses_equal_mmdets_under_same_points',
    # README command 1 is tools/demo.py behind the environment set-up
    'bash tools/demo.sh': 'tests/tools/test_demo.py::test_demo_trains_and_scores_the_semantic_model',
    'python tools/demo.py --task instance': 'tests/tools/test_demo.py::test_demo_instance_scores_a_panoptic_checkpoint',
    # README command 2 is what .ci/run runs (both tiers)
    'bash tools/run_tests.sh': 'tests/docs/test_doc_commands.py::test_ci_runs_the_documented_test_command',
    'bash tools/run_tests.sh -m "not slow"': 'tests/docs/test_doc_commands.py::test_ci_runs_the_documented_test_command',
    'python tools/train.py configs/maskformer_r50_ade20k.py': 'tests/tools/test_train_test_tools.py::test_train_resume_test',
    'bash tools/dist_train.sh configs/maskformer_swin-l_ade20k.py 8': 'tests/tools/test_train_test_tools.py::test_dist_train_two_processes_on_cpu',
    'tools/dist_train.sh configs/maskformer_swin-l_ade20k.py 8': 'tests/tools/test_train_test_tools.py::test_dist_train_two_processes_on_cpu',
    'tools/dist_test.sh configs/maskformer_r50_coco-panoptic.py CKPT 8': 'tests/docs/test_doc_commands.py::test_dist_test_two_processes_on_cpu',
    'tools/slurm_train.sh PARTITION JOB configs/maskformer_r50_ade20k.py': 'tests/docs/test_doc_commands.py::test_slurm_train_runs_train_py_under_srun',
    'python tools/test.py configs/maskformer_r50_ade20k.py CKPT --out preds/ --show-dir vis/': 'tests/tools/test_train_test_tools.py::test_train_resume_test',
    'python tools/test.py configs/maskformer_r50_ade20k.py CKPT --out preds --show-dir vis': 'tests/tools/test_train_test_tools.py::test_train_resume_test',
    'python tools/test.py configs/maskformer_r50_ade20k.py checkpoints/maskformer_r50_ade20k.pth': 'tests/tools/test_train_test_tools.py::test_train_resume_test',
    'python tools/test.py configs/maskformer_r50_ade20k.py checkpoints/maskformer_r50_ade20k_from_mmseg.pth': 'tests/tools/test_train_test_tools.py::test_train_resume_test',
    'python tools/convert_official_checkpoint.py model_final_d8dbeb.pkl maskformer_r50_ade20k.pth': 'tests/converters/test_official_checkpoint.py::test_convert_tool_on_a_pkl',
    'python tools/convert_official_checkpoint.py model_final_d8dbeb.pkl checkpoints/maskformer_r50_ade20k.pth': 'tests/converters/test_official_checkpoint.py::test_convert_tool_on_a_pkl',
    'python tools/dataset_converters/ade20k_full.py data/ADE20K_2021_17_01 --nproc 8': 'tests/datasets/test_ade20k_full.py::test_labels_pixel_by_pixel',
    'python tools/analysis/ddp_equivalence.py --work-dir work_dirs/ddp_equivalence': 'tests/engine/test_ddp_equivalence.py::test_two_processes_of_4_equal_one_process_of_8',
    'mim train mmmaskformer maskformer_r18-tiny_synthetic-64x64.py --work-dir work_dirs/mim-demo': 'tests/tools/test_mim.py::test_mim_train_trains_the_demo_config',
    'mim test mmmaskformer maskformer_r18-tiny_synthetic-64x64.py --checkpoint work_dirs/mim-demo/iter_1500.pth': 'tests/tools/test_mim.py::test_mim_test_scores_the_checkpoint_as_tools_test',
    'python tools/convert_mmseg_checkpoint.py work_dirs/maskformer_r50-d32_8xb2-160k_ade20k-512x512/iter_160000.pth checkpoints/maskformer_r50_ade20k_from_mmseg.pth --config configs/maskformer_r50_ade20k.py': 'tests/converters/test_openmmlab_checkpoint.py::test_openmmlab_maskformer_converts_and_predicts_identically',
    'python tools/convert_mmseg_checkpoint.py maskformer_r50_ms-16xb1-75e_coco.pth checkpoints/maskformer_r50_coco-panoptic_from_mmdet.pth --config configs/maskformer_r50_coco-panoptic.py': 'tests/converters/test_openmmlab_checkpoint.py::test_openmmlab_maskformer_converts_and_predicts_identically',
    'bash tools/run_tests.sh -m slow': 'tests/docs/test_doc_commands.py::test_ci_runs_the_documented_test_command',
    # the downstream page's three blocks are run by its own test
    'PYTHONPATH=. python $(python -c "import mmseg, os; print(os.path.dirname(mmseg.__file__))")/.mim/tools/train.py my_project/configs/maskformer_my_dataset.py --work-dir work_dirs/my': 'tests/tools/test_downstream_project.py::test_downstream_project_as_documented',
    'cd my_project_parent_folder': 'tests/tools/test_downstream_project.py::test_downstream_project_as_documented',
    '# my_project/datasets.py': 'tests/tools/test_downstream_project.py::test_downstream_project_as_documented',
    '# my_project/configs/maskformer_my_dataset.py': 'tests/tools/test_downstream_project.py::test_downstream_project_as_documented',
    # the demos and MaskFormerInferencer's snippet, in a user's checkout
    'python demo/image_demo.py data/synthetic/img_dir/val/00000.png configs/maskformer_r18-tiny_synthetic-64x64.py work_dirs/demo/train/iter_1500.pth --out-file out.png': 'tests/apis/test_fresh_process.py::test_readme_image_demo_in_a_fresh_process',
    'python demo/image_demo.py data/synthetic/img_dir/val/00000.png configs/maskformer_r18-tiny_synthetic-panoptic-64x64.py work_dirs/demo-instance/train/iter_2000.pth --task panoptic --out-file out_panoptic.png': 'tests/apis/test_fresh_process.py::test_readme_image_demo_in_a_fresh_process',
    'python demo/video_demo.py in.mp4 configs/maskformer_r18-tiny_synthetic-64x64.py work_dirs/demo/train/iter_1500.pth --output-file out.mp4': 'tests/apis/test_fresh_process.py::test_readme_video_demo_in_a_fresh_process',
    'import mmcv': 'tests/apis/test_fresh_process.py::test_readme_inferencer_snippet_in_a_fresh_process',
}
for _size in ('--size 256 --batch 2 --segments 15 --iters 5 --warmup 1 --check-losses --out docs/benchmark_cpu_r50_256.json',
              '--size 512 --batch 2 --segments 15 --iters 3 --warmup 1 --check-losses --out docs/benchmark_cpu_r50_512.json',
              '--size 512 --batch 2 --segments 15 --iters 1 --warmup 1 --ours-config configs/maskformer_r50-pointsample_ade20k.py --out docs/benchmark_cpu_r50_512_pointsample.json'):
    for _prefix in ('', 'MALLOC_MMAP_MAX_=0 MALLOC_TRIM_THRESHOLD_=68719476736 '):
        COVERED[f'{_prefix}python tools/analysis/benchmark_train.py {_size}'] = \
            'tests/tools/test_benchmark_train.py::test_benchmark_train_command_reports_equal_losses_and_true_counts'
# mmdet's DetInferencer visualiser fails on an empty panoptic result, which
# the sandbox's one-iteration model gives: the snippet's calls are checked in
# process on a model whose thresholds keep every query
COVERED['from mmdet.apis import DetInferencer'] = \
    'tests/apis/test_inferencers.py::test_det_inferencer_runs_our_panoptic_and_instance_configs'
IN_PROCESS = {'from mmdet.apis import DetInferencer'}
# commands for the lent GPU machine (docs/benchmarks.md, "GPU"): the suite
# never needs a GPU, and the script's CPU form runs the whole benchmark
# several times (5 to 14 minutes on 2 cores), too long for the suite
DEVICE_ONLY = {
    'bash tools/analysis/gpu_bench.sh gpu_wheels "$OUT"',
    'SIZE=64 ITERS=1 WARMUP=0 bash tools/analysis/gpu_bench.sh none /tmp/gpu_try',
}
# tools whose name a covering test must mention, by command
TOOL = re.compile(r'((?:tools|demo)/[\w/.-]+\.(?:py|sh))|\b(mim) (train|test)\b')

# command -> run here as written (in the sandbox)
RUN = [
    'python tools/demo.py --task instance --checkpoint work_dirs/demo-panoptic/train/iter_2000.pth',
    'python tools/test.py configs/maskformer_r18-tiny_synthetic-panoptic-instance-64x64.py work_dirs/demo-instance/train/iter_2000.pth',
    'python tools/analysis/analyze_logs.py work_dirs/demo/train --keys loss decode.loss_ce mIoU --out work_dirs/demo/curves.png',
    'python tools/misc/publish_model.py work_dirs/demo/train/iter_1500.pth checkpoints/demo.pth',
    'python tools/analysis/browse_dataset.py configs/maskformer_r18-tiny_synthetic-panoptic-64x64.py --output-dir work_dirs/browse --max 20',
    'python tools/test.py configs/maskformer_r18-tiny_synthetic-64x64.py work_dirs/demo/train/iter_1500.pth --out work_dirs/demo/preds',
    'python tools/analysis/confusion_matrix.py configs/maskformer_r18-tiny_synthetic-64x64.py work_dirs/demo/preds work_dirs/demo/confusion',
    'python $(python -c "import mmseg, os; print(os.path.dirname(mmseg.__file__))")/.mim/tools/misc/print_config.py configs/maskformer_r50_ade20k.py',
    'python tools/deploy/export_onnx.py configs/maskformer_r18-tiny_synthetic-64x64.py work_dirs/demo/train/iter_1500.pth --shape 64 64 --out work_dirs/demo/maskformer.onnx --check',
    'mim search mmmaskformer',
    'mim search mmmaskformer --model maskformer-ade20k',
]
# python blocks (by first line) run as scripts in the sandbox; a config
# block is loaded with mmengine's Config and its model built
RUN_SNIPPETS = {
    'from mmmaskformer.apis import MaskFormerInferencer': 'script',
    "_base_ = ['/path/to/mmmaskformer/configs/maskformer_r50_coco-panoptic.py']": 'config',
}


def _covering_test(node: str):
    path, name = node.split('::')
    with open(osp.join(REPO, path), encoding='utf-8') as f:
        source = f.read()
    match = re.search(r'^def %s\(.*?(?=^\S|\Z)' % name, source, re.M | re.S)
    return source, match


def test_every_documented_command_is_covered():
    """A documented command is run here, or by the named test."""
    untested, bad = [], []
    for page, kind, text in documented():
        key = text if kind == 'bash' else snippet_key(text)
        if key in RUN or RUN_SNIPPETS.get(key) or key in DEVICE_ONLY:
            continue
        node = COVERED.get(key)
        if node is None:
            untested.append((page, key))
            continue
        source, match = _covering_test(node)
        if match is None:
            bad.append((key, node, 'no such test'))
            continue
        tool = TOOL.search(key)
        if tool and tool.group(1) and osp.basename(tool.group(1)) not in source:
            bad.append((key, node, f'does not run {tool.group(1)}'))
        if key not in IN_PROCESS and not re.search(
                r'run_tool|subprocess|mim\(|run\(', source):
            bad.append((key, node, 'starts no process'))
    assert untested == [], 'documented but not tested:\n' + '\n'.join(
        f'{page}: {key}' for page, key in untested)
    assert bad == []


def test_ci_runs_the_documented_test_command():
    """README command 2 is what CI runs: .ci/run calls tools/run_tests.sh,
    once for the fast tier and once for everything."""
    with open(osp.join(REPO, '.ci', 'run')) as f:
        ci = f.read()
    assert 'bash tools/run_tests.sh -m "not slow"' in ci
    assert re.search(r'^bash tools/run_tests.sh -m slow\s*$', ci, re.M) or \
        re.search(r'^bash tools/run_tests.sh\s*$', ci, re.M)
    with open(osp.join(REPO, 'tools', 'run_tests.sh')) as f:
        assert '-m pytest tests' in f.read()


# ------------------------------------------------------------- the sandbox
def _env():
    return dict(os.environ, PATH=BIN + os.pathsep + os.environ['PATH'],
                PYTHONUNBUFFERED='1', OMP_NUM_THREADS='2', MPLBACKEND='Agg')


def _shell(command, cwd, timeout=600):
    proc = subprocess.run(['bash', '-c', command], cwd=cwd, env=_env(),
                          capture_output=True, text=True, timeout=timeout)
    out = proc.stdout + proc.stderr
    assert proc.returncode == 0, f'{command}\nexit {proc.returncode}:\n' \
        f'{out[-4000:]}'
    return out


def _train_one_iteration(config, work_dir, name, cwd):
    _shell(f'python tools/train.py {config} --work-dir {work_dir} '
           '--cfg-options train_cfg.max_iters=1 train_cfg.val_interval=1 '
           'default_hooks.logger.interval=1 '
           'param_scheduler.0.end=1 train_dataloader.batch_size=2 '
           'train_dataloader.num_workers=0 '
           'train_dataloader.persistent_workers=False', cwd)
    shutil.copy(osp.join(cwd, work_dir, 'iter_1.pth'),
                osp.join(cwd, work_dir, name))


@pytest.fixture(scope='module')
def sandbox(tmp_path_factory):
    """A user's folder: the repository's tools, configs and demo, the demo
    data and the demo checkpoints at the paths the docs use."""
    import cv2
    import numpy as np

    from mmmaskformer.datasets import generate_synthetic_dataset
    root = tmp_path_factory.mktemp('user')
    for name in ('tools', 'configs', 'demo'):
        os.symlink(osp.join(REPO, name), root / name)
    generate_synthetic_dataset(str(root / 'data' / 'synthetic'), num_train=4,
                               num_val=2, progress=False)
    _train_one_iteration('configs/maskformer_r18-tiny_synthetic-64x64.py',
                         'work_dirs/demo/train', 'iter_1500.pth', root)
    _train_one_iteration(
        'configs/maskformer_r18-tiny_synthetic-panoptic-64x64.py',
        'work_dirs/demo-panoptic/train', 'iter_2000.pth', root)
    os.makedirs(root / 'work_dirs' / 'demo-instance' / 'train')
    shutil.copy(root / 'work_dirs' / 'demo-panoptic' / 'train' /
                'iter_2000.pth',
                root / 'work_dirs' / 'demo-instance' / 'train' /
                'iter_2000.pth')
    video = cv2.VideoWriter(str(root / 'in.mp4'),
                            cv2.VideoWriter_fourcc(*'mp4v'), 5, (64, 64))
    frame = cv2.imread(str(root / 'data' / 'synthetic' / 'img_dir' / 'val' /
                           '00000.png'))
    for i in range(3):
        video.write(np.roll(frame, 4 * i, axis=1))
    video.release()
    return str(root)


@pytest.mark.slow
@pytest.mark.parametrize('command', RUN)
def test_documented_command_runs(command, sandbox):
    assert any(text == command for _, _, text in documented()), \
        f'no longer documented: {command}'
    _shell(command, sandbox)


@pytest.mark.slow
@pytest.mark.parametrize('first_line', sorted(RUN_SNIPPETS))
def test_documented_snippet_runs(first_line, sandbox, tmp_path):
    (body, ) = [text for _, kind, text in documented()
                if kind == 'python' and snippet_key(text) == first_line]
    if RUN_SNIPPETS[first_line] == 'script':
        script = tmp_path / 'snippet.py'
        script.write_text(body)
        _shell(f'python {script}', sandbox)
        return
    config = tmp_path / 'config.py'
    config.write_text(body.replace('/path/to/mmmaskformer', REPO))
    _shell(f'python -c "from mmengine.config import Config; '
           f'from mmengine.registry import init_default_scope; '
           f'import mmmaskformer; from mmmaskformer.registry import MODELS; '
           f'cfg = Config.fromfile(\'{config}\'); '
           f'init_default_scope(cfg.default_scope); MODELS.build(cfg.model)"',
           sandbox)


@pytest.mark.slow
def test_dist_test_two_processes_on_cpu(sandbox):
    """tools/dist_test.sh with 2 processes (gloo) on the demo checkpoint
    gives the mIoU of one process."""
    def miou(out):
        (value, ) = re.findall(r'Iter\(test\) \[\d+/\d+\].*?mIoU: ([\d.]+)',
                               out)
        return float(value)
    config = 'configs/maskformer_r18-tiny_synthetic-64x64.py'
    ckpt = 'work_dirs/demo/train/iter_1500.pth'
    one = _shell(f'python tools/test.py {config} {ckpt} --work-dir '
                 'work_dirs/t1', sandbox)
    two = _shell(f'PORT=29611 bash tools/dist_test.sh {config} {ckpt} 2 '
                 '--work-dir work_dirs/t2', sandbox)
    assert miou(two) == miou(one)


@pytest.mark.slow
def test_slurm_train_runs_train_py_under_srun(tmp_path):
    """tools/slurm_train.sh hands tools/train.py to srun with the SLURM
    launcher; a stand-in srun records what it was given."""
    fake = tmp_path / 'bin'
    fake.mkdir()
    (fake / 'srun').write_text('#!/bin/bash\nprintf "%s\\n" "$@" > '
                               f'{tmp_path}/srun_args\n')
    (fake / 'srun').chmod(0o755)
    env = dict(_env(), PATH=f'{fake}{os.pathsep}' + _env()['PATH'])
    proc = subprocess.run(
        ['bash', 'tools/slurm_train.sh', 'PARTITION', 'JOB',
         'configs/maskformer_r50_ade20k.py'], cwd=REPO, env=env,
        capture_output=True, text=True, timeout=60)
    assert proc.returncode == 0, proc.stderr
    args = (tmp_path / 'srun_args').read_text().split('\n')
    assert args[args.index('-p') + 1] == 'PARTITION'
    assert '--job-name=JOB' in args
    i = args.index('tools/train.py')
    assert args[i - 2:i] == ['python', '-u']
    assert args[i + 1:i + 3] == ['configs/maskformer_r50_ade20k.py',
                                 '--launcher=slurm']
