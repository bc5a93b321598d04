#!/usr/bin/env bash
# Set up (if needed) and run the whole test suite: real ffmpeg, espeak-ng and Dagster.
set -euo pipefail
cd "$(dirname "$0")"
bash scripts/setup-env.sh
exec .venv/bin/python -m pytest "$@"
