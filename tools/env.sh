# Sourced by tools/demo.sh and tools/run_tests.sh: picks the Python
# environment and installs the stack into it (idempotent).
#   MMMASKFORMER_VENV  venv to use/create (default: the active venv, else ./.venv)
REPO=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
if [ -n "${MMMASKFORMER_VENV:-}" ]; then VENV=$MMMASKFORMER_VENV
elif [ -n "${VIRTUAL_ENV:-}" ]; then VENV=$VIRTUAL_ENV
else VENV=$REPO/.venv; fi
if [ ! -x "$VENV/bin/python" ]; then
  base=$(command -v python3.11 || command -v python3)
  echo "[env] creating virtual environment $VENV with $base"
  "$base" -m venv "$VENV"
fi
PY=$VENV/bin/python
PYTHON=$PY bash "$REPO/tools/install.sh"
