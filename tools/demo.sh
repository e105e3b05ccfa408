#!/usr/bin/env bash
# README command 1: install, generate the demo data, train and score MaskFormer
# on it (CPU). Extra arguments go to tools/demo.py.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/env.sh"
cd "$REPO"
exec "$PY" tools/demo.py "$@"
