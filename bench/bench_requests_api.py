"""An ISP's first page of requests through the API, against a bare asyncpg handler running the same SQL.

    python bench/bench_requests_api.py [--scale 1.0] [--seconds 8]

The scratch database gets the realistic data set (bench/dataset.py); the main ISP has tens of
thousands of requests addressed to it. The portal (one uvicorn process, connecting as an ordinary
role so row-level security applies) answers ``GET /api/v1/takedown/requests`` with a bearer API key;
the bare Litestar app (bench/bare_requests_api.py, one uvicorn process, administrator connection)
runs the same SQL through asyncpg with no auth, no transaction, no ORM and no templating. wrk
drives each in turn on loopback after a warm-up.
"""

from __future__ import annotations

import argparse
import sys

import httpx
from common import (
    application_role_url,
    dataset_and_key,
    free_port,
    peak_rss_mb,
    portal_env,
    scratch_database,
    server,
    wrk,
)

PATH = "/api/v1/takedown/requests"


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--scale", type=float, default=1.0)
    parser.add_argument("--seconds", type=int, default=8)
    args = parser.parse_args()
    with scratch_database() as url:
        data, key = dataset_and_key(url, args.scale)
        headers = {"Authorization": f"Bearer {key}"}
        recipient = data.tenants[data.primary_isp]
        results = {}
        for name, target in (("bare", "bare_requests_api:app"), ("portal", "portal.app:create_app")):
            port = free_port()
            command = [sys.executable, "-m", "uvicorn", target, "--port", str(port), "--log-level", "warning",
                       "--no-access-log", "--app-dir", "bench"]
            env = portal_env(application_role_url(url), BENCH_BARE_DATABASE_URL=url,
                             BENCH_RECIPIENT_ID=str(recipient))
            if name == "portal":
                command.append("--factory")
            with server(command, env, port) as process:
                body = httpx.get(f"http://127.0.0.1:{port}{PATH}", headers=headers).json()
                assert len(body["items"]) == 50 and body["next"], body
                wrk(f"http://127.0.0.1:{port}{PATH}", headers, seconds=2)  # warm-up
                results[name] = (wrk(f"http://127.0.0.1:{port}{PATH}", headers, seconds=args.seconds),
                                 peak_rss_mb(process.pid))
    bare, portal = results["bare"][0], results["portal"][0]
    print(f"bare asyncpg handler        : {bare:8.0f} req/s   peak RSS {results['bare'][1]:.0f} MB")
    print(f"portal {PATH} : {portal:8.0f} req/s   peak RSS {results['portal'][1]:.0f} MB")
    print(f"ratio portal / bare         : {portal / bare:.2f}x   (target >= 0.7x)")


if __name__ == "__main__":
    main()
