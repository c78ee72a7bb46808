#!/usr/bin/env bash
# Runs the whole test suite (installs what it needs first). Extra arguments go to pytest.
set -euo pipefail
source "$(dirname "$0")/scripts/bootstrap.sh"
exec .venv/bin/python -m pytest "$@"
