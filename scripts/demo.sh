#!/usr/bin/env bash
# First command of the README: install, then run the portal on SQLite and local files with demo data.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
bash "$ROOT/scripts/bootstrap.sh"
exec "$ROOT/.venv/bin/portal" demo "$@"
