"""Block-list feeds: blocklist.txt of a big ISP and its 304, against a bare asyncpg handler; and how fast a
block decision reaches the feed.

    python bench/bench_blocklist.py [--scale 1.0] [--seconds 8] [--decisions 20]

The scratch database gets the realistic data set (bench/dataset.py): at scale 1 the main ISP's
list holds about 100,000 active values. The portal (one uvicorn process, ordinary role so
row-level security applies) and the bare Litestar app (bench/bare_blocklist.py: the same SQL on a
plain pooled connection, no auth, no transaction) are driven by wrk with one connection, so the
figures are per-request latencies:

- ``GET /api/v1/blocklist.txt`` building the whole text;
- the same with ``If-None-Match`` carrying the current ETag (a 304 after one indexed MAX(id)).

Then the hotline issues block requests through ``POST /api/v1/takedown/requests`` with its own API
key, each naming a new address and addressed to the main ISP; right after each 201 the ISP fetches
``blocklist.txt?since=<its previous cursor>`` with its key. The time from sending the POST to a
feed answer containing the address is reported, with how many fetches it took (1 means the
decision was in the feed in the same request cycle that committed it).
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
import uuid

import httpx
from common import (
    api_key,
    application_role_url,
    dataset_and_key,
    free_port,
    peak_rss_mb,
    portal_env,
    scratch_database,
    server,
    wrk,
)

TXT = "/api/v1/blocklist.txt"


def measure_feed(port: int, headers: dict[str, str], seconds: int) -> dict[str, float]:
    base = f"http://127.0.0.1:{port}"
    first = httpx.get(base + TXT, headers=headers, timeout=60)
    first.raise_for_status()
    etag = first.headers["etag"]
    lines = first.text.count("\n")
    again = httpx.get(base + TXT, headers={**headers, "If-None-Match": etag}, timeout=60)
    assert again.status_code == 304, again.status_code
    wrk(base + TXT, headers, seconds=2, connections=1)  # warm-up
    txt = wrk(base + TXT, headers, seconds=seconds, connections=1)
    not_modified = wrk(base + TXT, {**headers, "If-None-Match": etag}, seconds=seconds, connections=1)
    busy_304 = wrk(base + TXT, {**headers, "If-None-Match": etag}, seconds=seconds, connections=32)
    return {"lines": lines, "bytes": len(first.content), "txt_ms": 1000 / txt, "304_ms": 1000 / not_modified,
            "304_rps": busy_304}


def measure_decisions(port: int, isp_headers: dict[str, str], issuer_headers: dict[str, str], isp_slug: str,
                      count: int) -> list[tuple[float, float, int]]:
    """(POST seconds, seconds from POST start until the ISP's feed shows the address, fetches needed)."""
    base = f"http://127.0.0.1:{port}"
    results = []
    with httpx.Client(base_url=base, timeout=60) as client:
        # As an ISP syncs: one whole fetch, then each fetch asks for the changes since the last cursor.
        cursor = client.get(TXT, headers=isp_headers).headers["x-blocklist-cursor"]
        for number in range(count):
            cursor = client.get(TXT, headers=isp_headers, params={"since": cursor}).headers["x-blocklist-cursor"]
            address = f"https://bench-{uuid.uuid4().hex[:12]}.example.al/galeri/{number}"
            started = time.perf_counter()
            reply = client.post("/api/v1/takedown/requests", headers=issuer_headers, json={
                "kind": "block", "recipients": [isp_slug], "urls": [address], "category": "csam",
                "legal_basis": "Kodi Penal, neni 117",
            })
            posted = time.perf_counter()
            assert reply.status_code == 201, reply.text
            fetches = 0
            while True:
                fetches += 1
                feed = client.get(TXT, headers=isp_headers, params={"since": cursor})
                if f"+{address}\n" in feed.text:
                    break
                if time.perf_counter() - started > 30:
                    raise RuntimeError(f"{address} not in the feed after 30 s")
            results.append((posted - started, time.perf_counter() - started, fetches))
    return results


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--scale", type=float, default=1.0)
    parser.add_argument("--seconds", type=int, default=8)
    parser.add_argument("--decisions", type=int, default=20)
    args = parser.parse_args()
    with scratch_database() as url:
        data, isp_key = dataset_and_key(url, args.scale)
        issuer_key = api_key(url, data.hotline)
        isp_headers = {"Authorization": f"Bearer {isp_key}"}
        recipient = data.tenants[data.primary_isp]
        results = {}
        decisions = []
        for name, target in (("bare", "bare_blocklist:app"), ("portal", "portal.app:create_app")):
            port = free_port()
            command = [sys.executable, "-m", "uvicorn", target, "--port", str(port), "--log-level", "warning",
                       "--no-access-log", "--app-dir", "bench"]
            env = portal_env(application_role_url(url), BENCH_BARE_DATABASE_URL=url, BENCH_RECIPIENT_ID=str(recipient))
            if name == "portal":
                command.append("--factory")
            with server(command, env, port) as process:
                results[name] = measure_feed(port, isp_headers, args.seconds)
                if name == "portal":
                    decisions = measure_decisions(port, isp_headers, {"Authorization": f"Bearer {issuer_key}"},
                                                  data.primary_isp, args.decisions)
                results[name]["rss"] = peak_rss_mb(process.pid)
    bare, portal = results["bare"], results["portal"]
    assert bare["lines"] == portal["lines"], (bare["lines"], portal["lines"])
    print(f"blocklist.txt of {data.primary_isp}: {portal['lines']:,} values, {portal['bytes'] / 1e6:.1f} MB")
    print(f"  bare asyncpg build : {bare['txt_ms']:8.1f} ms per request")
    print(f"  portal             : {portal['txt_ms']:8.1f} ms per request")
    print(f"  ratio portal / bare: {portal['txt_ms'] / bare['txt_ms']:.2f}x   (target <= 2x)")
    print("304 Not Modified (If-None-Match: current ETag)")
    print(f"  bare handler       : {bare['304_ms']:8.2f} ms per request   {bare['304_rps']:7.0f} req/s with 32 connections")
    print(f"  portal             : {portal['304_ms']:8.2f} ms per request   {portal['304_rps']:7.0f} req/s with 32 connections")
    print(f"  ratio portal / bare: {portal['304_ms'] / bare['304_ms']:.2f}x latency, "
          f"{portal['304_rps'] / bare['304_rps']:.2f}x throughput   (target <= 2x latency)")
    posts = [d[0] * 1000 for d in decisions]
    visible = [d[1] * 1000 for d in decisions]
    fetches = [d[2] for d in decisions]
    print(f"block decision -> ISP feed, {len(decisions)} decisions through the API:")
    print(f"  POST /api/v1/takedown/requests (commit)  : median {statistics.median(posts):6.1f} ms, max {max(posts):6.1f} ms")
    print(f"  POST start -> address in the ISP's feed  : median {statistics.median(visible):6.1f} ms, "
          f"max {max(visible):6.1f} ms")
    print(f"  feed fetches needed after the 201        : {max(fetches)} at most (1 = same request cycle)")
    print(f"peak RSS: portal server {portal['rss']:.0f} MB, bare server {bare['rss']:.0f} MB")


if __name__ == "__main__":
    main()
