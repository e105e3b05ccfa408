#!/usr/bin/env bash
# GPU benchmark on a bare machine with no network (see docs/benchmarks.md).
#
#   bash tools/analysis/gpu_bench.sh WHEEL_DIR [OUT_DIR]
#
# Installs the given wheels (mmcv, mmengine, mmseg, mmdet and what they need;
# ../shared/wheels/README.md) into a private folder without a network, then
# runs, in at most a few minutes on an H100:
#   1. our exact mode vs mmseg's MaskFormer, R50 512x512 batch 2, with the
#      loss check at equal weights and inputs;
#   2. our memory-efficient (point-sampled) mode vs mmseg's, same setting;
#   3. exact mode vs mmseg's, Swin-L 640x640 batch 2;
#   4. batch-1 inference fps at 512x512;
# and writes JSON/text results to OUT_DIR (default $OUT or gpu_results).
# WHEEL_DIR=none skips the install (an environment that has the stack);
# SIZE, SWIN_SIZE, ITERS and WARMUP override the defaults (512, 640, 10, 3),
# e.g. on a CPU: SIZE=64 SWIN_SIZE=64 ITERS=1 WARMUP=0 bash tools/analysis/gpu_bench.sh none
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/../.."
WHEELS=${1:?usage: gpu_bench.sh WHEEL_DIR [OUT_DIR]}
OUTDIR=${2:-${OUT:-gpu_results}}
SIZE=${SIZE:-512}
ITERS=${ITERS:-10}
WARMUP=${WARMUP:-3}
PY=${PYTHON:-python3}
mkdir -p "$OUTDIR"
if [ "$WHEELS" != none ]; then
  SITE=$(mktemp -d)
  "$PY" -m pip install -q --no-index --no-deps --no-compile --no-cache-dir \
    --target "$SITE" "$WHEELS"/*.whl
  export PYTHONPATH="$SITE:$PWD${PYTHONPATH:+:$PYTHONPATH}"
fi
"$PY" - <<'PYEOF' | tee "$OUTDIR/environment.txt"
import numpy, torch, mmcv, mmengine, mmseg, mmdet
print('numpy', numpy.__version__, 'torch', torch.__version__,
      'mmcv', mmcv.__version__, 'mmengine', mmengine.__version__,
      'mmseg', mmseg.__version__, 'mmdet', mmdet.__version__)
print('device', torch.cuda.get_device_name() if torch.cuda.is_available()
      else 'cpu')
PYEOF
git rev-parse HEAD 2>/dev/null | sed 's/^/commit /' | tee -a "$OUTDIR/environment.txt" || true
COMMON=(--size "$SIZE" --batch 2 --segments 15 --iters "$ITERS" --warmup "$WARMUP")
"$PY" tools/analysis/benchmark_train.py "${COMMON[@]}" --check-losses \
  --out "$OUTDIR/r50_exact.json" | tee "$OUTDIR/r50_exact.txt"
"$PY" tools/analysis/benchmark_train.py "${COMMON[@]}" \
  --ours-config configs/maskformer_r50-pointsample_ade20k.py \
  --out "$OUTDIR/r50_pointsample.json" | tee "$OUTDIR/r50_pointsample.txt"
SWIN_SIZE=${SWIN_SIZE:-640}
"$PY" tools/analysis/benchmark_train.py --model swin-l --size "$SWIN_SIZE" \
  --batch 2 --segments 15 --iters "$ITERS" --warmup "$WARMUP" \
  --out "$OUTDIR/swinl_exact.json" | tee "$OUTDIR/swinl_exact.txt"
"$PY" tools/analysis/benchmark.py configs/maskformer_r50_ade20k.py \
  --shape "$SIZE" --iters 50 | tee "$OUTDIR/fps.txt"
echo "results in $OUTDIR"
