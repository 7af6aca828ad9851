#!/usr/bin/env bash
# Second command of the README: install everything the tests need, then run the whole suite.
# PostgreSQL, the SeaweedFS S3 server, an SMTP server and headless Chromium are all real;
# under CI=true a missing one is an error, never a skip.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"

bash "$ROOT/scripts/bootstrap.sh" "[test]"

as_root() { if [ "$(id -u)" = 0 ]; then "$@"; elif command -v sudo >/dev/null; then sudo "$@"; else return 1; fi; }

# Debian's Chromium for the browser tests (Playwright's own browser download cannot work here).
missing=()
command -v chromium >/dev/null 2>&1 || missing+=(chromium)
if [ ${#missing[@]} -gt 0 ]; then
  if command -v apt-get >/dev/null 2>&1; then
    as_root apt-get update -qq && as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}" >/dev/null \
      || echo "Could not install ${missing[*]}; the tests that need them will say so." >&2
  else
    echo "Install ${missing[*]} to run every test." >&2
  fi
fi

# Start the machine's PostgreSQL if it is installed but stopped.
if [ -z "${PORTAL_TEST_DATABASE_URL:-}" ] && command -v pg_ctlcluster >/dev/null 2>&1 \
   && ! pg_isready -q -h 127.0.0.1 -p 5432 2>/dev/null; then
  version="$(ls /etc/postgresql 2>/dev/null | sort -V | tail -n 1)"
  [ -n "$version" ] && as_root pg_ctlcluster --skip-systemctl-redirect "$version" main start || true
fi

exec "$ROOT/.venv/bin/python" -m pytest "$@"
