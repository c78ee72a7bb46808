#!/usr/bin/env bash
# Runs the whole test suite (installs what it needs first). Extra arguments go to pytest.
# Tests run on one pytest-xdist worker per CPU (TEST_WORKERS=N to choose, 0 for none).
set -euo pipefail
source "$(dirname "$0")/scripts/bootstrap.sh"
exec .venv/bin/python -m pytest -n "${TEST_WORKERS:-auto}" "$@"
