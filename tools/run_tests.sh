#!/usr/bin/env bash
# README command 2: install, then run the test suite (CPU, < 15 min on 2 cores).
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/env.sh"
cd "$REPO"
exec "$PY" -m pytest tests -q "$@"
