"""API-key authentication on the hot path: `GET /api/v1/me` of the portal against a bare handler.

    python bench/bench_api_auth.py [--seconds 8]

Both servers run as single uvicorn processes on loopback against the same scratch PostgreSQL
database; wrk drives each in turn. The bare handler does the same key lookup through asyncpg on
every request with no framework extras; the portal caches key lookups in-process for 30 s.
"""

from __future__ import annotations

import argparse
import re
import subprocess
import sys

from common import free_port, peak_rss_mb, portal_env, scratch_database, server, wrk


def create_key(env: dict[str, str]) -> str:
    subprocess.run([sys.executable, "-m", "portal.cli", "create-tenant", "--kind", "isp", "--slug", "bench-isp",
                    "--name", "Bench ISP"], env=env, check=True, stdout=subprocess.DEVNULL)
    output = subprocess.run([sys.executable, "-m", "portal.cli", "create-api-key", "--tenant", "bench-isp"],
                            env=env, check=True, capture_output=True, text=True).stdout
    return re.search(r"(psk_\S+)", output).group(1)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--seconds", type=int, default=8)
    args = parser.parse_args()
    with scratch_database() as url:
        env = portal_env(url)
        key = create_key(env)
        headers = {"Authorization": f"Bearer {key}"}
        results = {}
        for name, target in (("bare", "bare_api_me:app"), ("portal", "portal.app:create_app")):
            port = free_port()
            command = [sys.executable, "-m", "uvicorn", target, "--port", str(port), "--log-level", "warning",
                       "--no-access-log", "--app-dir", "bench"]
            if name == "portal":
                command.append("--factory")
            with server(command, env, port) as process:
                wrk(f"http://127.0.0.1:{port}/api/v1/me", headers, seconds=2)  # warm-up
                results[name] = (wrk(f"http://127.0.0.1:{port}/api/v1/me", headers, seconds=args.seconds),
                                 peak_rss_mb(process.pid))
    bare, portal = results["bare"][0], results["portal"][0]
    print(f"bare asyncpg handler : {bare:8.0f} req/s   peak RSS {results['bare'][1]:.0f} MB")
    print(f"portal /api/v1/me    : {portal:8.0f} req/s   peak RSS {results['portal'][1]:.0f} MB")
    print(f"ratio portal / bare  : {portal / bare:.2f}x")


if __name__ == "__main__":
    main()
