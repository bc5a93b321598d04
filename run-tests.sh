#!/usr/bin/env bash
# Set up (if needed) and run the whole test suite: real ffmpeg, espeak-ng, Dagster, PostgreSQL
# and Redis (started here when installed but stopped), Chromium for the creator page.
set -euo pipefail
cd "$(dirname "$0")"
bash scripts/setup-env.sh --tests
bash scripts/services.sh
exec .venv/bin/python -m pytest "$@"
