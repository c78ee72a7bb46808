#!/usr/bin/env bash
# Runs the assistant: the messenger channels when tokens are set in .env, else the console chat.
# Usage: ./run.sh [run|shell]
set -euo pipefail
source "$(dirname "$0")/scripts/bootstrap.sh"
exec .venv/bin/python -m bot "${@:-run}"
