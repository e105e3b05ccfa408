#!/usr/bin/env bash
# README command 2: install, then run the test suite (CPU; docs/tests.md gives the time of each tier).
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/env.sh"
cd "$REPO"
exec "$PY" -m pytest tests -q "$@"
