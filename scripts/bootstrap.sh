# Sourced by run.sh and test.sh: make .venv with the project installed, once per pyproject change.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
PYTHON=${PYTHON:-python3}
if ! "$PYTHON" -c 'import sys; sys.exit(sys.version_info < (3, 11))' 2>/dev/null; then
  for candidate in python3.13 python3.12 python3.11; do
    if command -v "$candidate" >/dev/null; then PYTHON=$candidate; break; fi
  done
fi
"$PYTHON" -c 'import sys; sys.exit(sys.version_info < (3, 11))' || { echo "Python 3.11+ is needed" >&2; exit 1; }
if [ ! -x .venv/bin/python ]; then
  echo "Creating .venv with $("$PYTHON" --version)…" >&2
  "$PYTHON" -m venv .venv
fi
stamp=.venv/.installed-$(cat pyproject.toml | sha256sum | cut -c1-16)
if [ ! -f "$stamp" ]; then
  echo "Installing the project and its dependencies into .venv (a minute or two the first time; log: .venv/install.log)…" >&2
  if ! { .venv/bin/python -m pip install --quiet --upgrade pip \
         && PYTHONWARNINGS=ignore .venv/bin/python -m pip install --quiet -e ".[dev]"; } >.venv/install.log 2>&1; then
    cat .venv/install.log >&2
    echo "Installation failed; the log is above and in .venv/install.log" >&2
    exit 1
  fi
  rm -f .venv/.installed-*
  touch "$stamp"
  echo "Ready." >&2
fi
