#!/usr/bin/env bash
# Installs the pinned mmmaskformer stack into one Python environment.
# Idempotent: a second run only re-links the editable package (seconds).
#
#   PYTHON=/path/to/python bash tools/install.sh      (default: python3)
#
# Order: build tools -> torch -> mmcv 2.1.0 from source with compiled ops ->
# the rest -> this package (editable). The mmcv wheel is built once per
# (torch, Python) and kept in $MMMASKFORMER_CACHE/wheels/<torch>-<python>/,
# because pip's own cache keys built wheels on the source only and would hand
# a wheel built against one torch to another.
set -euo pipefail
REPO=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
PY=${PYTHON:-python3}
CACHE=${MMMASKFORMER_CACHE:-$HOME/.cache/mmmaskformer}
STAMP_DIR=$("$PY" -c 'import sys; print(sys.prefix)')
STAMP="$STAMP_DIR/.mmmaskformer-stack"
log() { printf '[install] %s\n' "$*"; }
pipq() { "$PY" -m pip install --disable-pip-version-check -q "$@" 2>&1 \
  | grep -v "^WARNING: Location" || true; }

want=$(cat "$REPO"/requirements/{build,torch,mmcv,runtime,tests,onnx,mim}.txt | sha1sum | cut -c1-16)
if [ -f "$STAMP" ] && [ "$(cat "$STAMP")" = "$want" ] && \
   "$PY" -c 'import mmcv._ext, mmseg.models, mmdet.models' >/dev/null 2>&1; then
  log "pinned stack already installed in $STAMP_DIR"
else
  log "build tools"
  pipq -r "$REPO/requirements/build.txt"
  log "torch (from local disk where available)"
  pipq -r "$REPO/requirements/torch.txt"
  "$PY" -c 'import torch, torchvision' || { echo "torch/torchvision do not import" >&2; exit 1; }

  torch_ver=$("$PY" -c 'import torch; print(torch.__version__)')
  py_tag=$("$PY" -c 'import sys; print(f"cp{sys.version_info[0]}{sys.version_info[1]}")')
  if "$PY" -c 'import mmcv, mmcv._ext; assert mmcv.__version__ == "2.1.0"' >/dev/null 2>&1; then
    log "mmcv 2.1.0 with ops already works against torch $torch_ver"
  else
    wheel_dir="$CACHE/wheels/torch-$torch_ver-$py_tag"
    mkdir -p "$wheel_dir"
    if ! ls "$wheel_dir"/mmcv-2.1.0-*.whl >/dev/null 2>&1; then
      log "building mmcv 2.1.0 with compiled ops against torch $torch_ver (25-40 min on 2 cores)"
      src=$(mktemp -d)
      "$PY" -m pip download --disable-pip-version-check --no-deps --no-binary :all: \
        --no-build-isolation mmcv==2.1.0 -d "$src" -q 2>&1 | grep -v "^WARNING: Location" || true
      tar xzf "$src"/mmcv-2.1.0.tar.gz -C "$src"
      if "$PY" -c 'import sys, torch; v = tuple(int(x) for x in torch.__version__.split("+")[0].split(".")[:2]); sys.exit(0 if v >= (2, 14) else 1)'; then
        log "torch >= 2.14 headers need C++20: patching mmcv's setup.py"
        sed -i 's/-std=c++17/-std=c++20/g' "$src/mmcv-2.1.0/setup.py"
      fi
      (cd "$src/mmcv-2.1.0" && MMCV_WITH_OPS=1 FORCE_CUDA=0 MAX_JOBS=$(nproc) \
        "$PY" -m pip wheel --disable-pip-version-check --no-build-isolation --no-deps \
        --no-cache-dir -w "$wheel_dir" . 2>&1 | grep -v "^WARNING: Location" | tail -3)
      rm -rf "$src"
    fi
    log "installing mmcv from $wheel_dir"
    pipq --no-deps --force-reinstall --no-cache-dir "$wheel_dir"/mmcv-2.1.0-*.whl
  fi
  log "OpenMMLab, timm, COCO tools and test tools"
  pipq -r "$REPO/requirements/runtime.txt" -r "$REPO/requirements/tests.txt" \
    -r "$REPO/requirements/onnx.txt"
  log "OpenMIM (--no-deps: see requirements/mim.txt)"
  pipq --no-deps -r "$REPO/requirements/mim.txt"
  "$PY" -c 'import mmcv._ext, mmseg.models, mmdet.models'
  echo "$want" > "$STAMP"
fi
log "mmmaskformer (editable)"
pipq --no-deps --no-build-isolation -e "$REPO"
"$PY" "$REPO/tools/misc/mim_link.py"
"$PY" -c 'import mmmaskformer; print("[install] mmmaskformer", mmmaskformer.__version__, "imports from", mmmaskformer.__file__)'
