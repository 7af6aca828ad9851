"""An ISP's first page of requests through the API, against a bare asyncpg handler running the same SQL.

    python bench/bench_requests_api.py [--scale 1.0] [--seconds 8]

The scratch database gets the realistic data set (bench/dataset.py); the main ISP has tens of
thousands of requests addressed to it. The portal (one uvicorn process, connecting as an ordinary
role so row-level security applies) answers ``GET /api/v1/takedown/requests`` with a bearer API key;
the bare Litestar app (bench/bare_requests_api.py, one uvicorn process, administrator connection)
runs the same SQL through asyncpg with no auth, no transaction, no ORM and no templating. wrk
drives them in alternating rounds on loopback after a warm-up and the median ratio is reported.
"""

from __future__ import annotations

import argparse
import statistics
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
    parser.add_argument("--rounds", type=int, default=3, help="alternating wrk runs per server")
    args = parser.parse_args()
    with scratch_database() as url:
        data, key = dataset_and_key(url, args.scale)
        headers = {"Authorization": f"Bearer {key}"}
        env = portal_env(application_role_url(url), BENCH_BARE_DATABASE_URL=url,
                         BENCH_RECIPIENT_ID=str(data.tenants[data.primary_isp]))
        ports = {"bare": free_port(), "portal": free_port()}
        commands = {
            name: [sys.executable, "-m", "uvicorn", target, "--port", str(ports[name]), "--log-level", "warning",
                   "--no-access-log", "--app-dir", "bench"]
            for name, target in (("bare", "bare_requests_api:app"), ("portal", "portal.app:create_app"))
        }
        commands["portal"].append("--factory")
        rates: dict[str, list[float]] = {"bare": [], "portal": []}
        with server(commands["bare"], env, ports["bare"]) as bare_process, \
                server(commands["portal"], env, ports["portal"]) as portal_process:
            for name, port in ports.items():
                body = httpx.get(f"http://127.0.0.1:{port}{PATH}", headers=headers).json()
                assert len(body["items"]) == 50 and body["next"], body
                wrk(f"http://127.0.0.1:{port}{PATH}", headers, seconds=2)  # warm-up
            # Alternating rounds: the host's load drifts, so each pair is measured under the same load.
            for _ in range(args.rounds):
                for name, port in ports.items():
                    rates[name].append(wrk(f"http://127.0.0.1:{port}{PATH}", headers, seconds=args.seconds))
            rss = {"bare": peak_rss_mb(bare_process.pid), "portal": peak_rss_mb(portal_process.pid)}
    ratios = [p / b for p, b in zip(rates["portal"], rates["bare"], strict=True)]
    print("round  bare req/s  portal req/s  ratio")
    for index, (bare, portal, ratio) in enumerate(zip(rates["bare"], rates["portal"], ratios, strict=True), 1):
        print(f"{index:5d}  {bare:10.0f}  {portal:12.0f}  {ratio:5.2f}x")
    print(f"peak RSS: bare {rss['bare']:.0f} MB, portal {rss['portal']:.0f} MB")
    print(f"median ratio portal / bare: {statistics.median(ratios):.2f}x   (target >= 0.7x)")


if __name__ == "__main__":
    main()
