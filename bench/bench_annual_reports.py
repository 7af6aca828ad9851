"""The yearly compliance figures of every ISP, the year's XLSX export and the regulators' dashboard page.

    python bench/bench_annual_reports.py [--scale 1.0] [--gets 20] [--repeats 5]

The scratch database gets 50 ISPs, two issuers (a hotline NGO and an agency) and a regulator;
200,000 x scale takedown requests issued during the year, each addressed to one to three ISPs
(a few to all of them) with per-ISP copies in states and timestamps that follow their age, as
bench/dataset.py makes them (acknowledged within hours, actioned within a day or two, some late,
closed, disputed, withdrawn or still open past the deadline); a published Code with six
commitments signed by every ISP during or before the year, and two to four measures per ISP.
Rows go in with asyncpg ``copy_records_to_table`` as the administrator.

Rows go in with triggers off, so the per-ISP figures cache (``portal.annual_reports.figures_cache``)
starts empty; the script empties it again wherever a cold figure is measured.

Four figures, each against what it can be compared with in the same run:

1. The per-ISP yearly statistics (counts, medians, p90s, overdue, within-deadline share) that the
   dashboard, the export and the pre-filled reports use, in-process on a pool connected as an
   ordinary role (row-level security applies): ``stats.compute`` (the aggregation in PostgreSQL,
   what a full refresh runs), ``figures.by_isp`` with the cache empty (compute and store every ISP)
   and filled (what a page reads). Baseline: the same statement (``stats.AGGREGATE_SQL``) over
   asyncpg as the administrator; a second, independently written query (``BARE_SQL``, numeric
   arithmetic) is timed too, and its figures are compared field by field with the portal's.
2. ``portal.annual_reports.exports.build(regulator, year, "xlsx", actor)``: time with the cache
   empty and filled, and file size.
3. The dashboard's data parts in-process (queue, figures, signatories, measures, all of
   ``year_data``) on the filled cache.
4. ``GET /t/{regulator}/annual-report-dashboard?year=`` on a running portal (one uvicorn process,
   ordinary role, no background worker), signed in as the regulator's admin: the first GET of the
   fresh process with the cache empty, a GET after warm-up with the cache emptied again (cold),
   then median, p90 and max of ``--gets`` GETs (warm), and three GETs each after one copy of the
   busiest ISP changed (only that ISP's year is recomputed). Target: under 300 ms.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import random
import statistics
import subprocess
import sys
import time
from datetime import UTC, date, datetime, timedelta

import asyncpg
import httpx
from common import ROOT, application_role_url, free_port, portal_env, scratch_database, server

YEAR = date.today().year - 1
N_ISPS = 50
PRIORITY_HOURS = {"critical": 24, "high": 48, "normal": 72}
PASSWORD = "bench-regulator-password-2026"
EMAIL = "rregullatori@autoriteti.example.al"

BARE_SQL = """
SELECT a.recipient,
       count(*) AS received,
       count(a.acknowledged_at) AS acknowledged,
       count(*) FILTER (WHERE a.actioned_at IS NOT NULL AND a.outcome <> '') AS actioned,
       count(a.disputed_at) AS disputed,
       count(*) FILTER (WHERE a.status IN ('sent', 'acknowledged') AND a.due_at < now())
         + count(*) FILTER (WHERE a.actioned_at > a.due_at) AS overdue,
       round(percentile_cont(0.5) WITHIN GROUP (ORDER BY extract(epoch FROM a.acknowledged_at - a.sent_at) / 3600)
             ::numeric, 2) AS median_hours_to_acknowledge,
       round(percentile_disc(0.9) WITHIN GROUP (ORDER BY extract(epoch FROM a.acknowledged_at - a.sent_at) / 3600)
             ::numeric, 2) AS p90_hours_to_acknowledge,
       round(percentile_cont(0.5) WITHIN GROUP (ORDER BY extract(epoch FROM a.actioned_at - a.sent_at) / 3600)
             ::numeric, 2) AS median_hours_to_action,
       round(percentile_disc(0.9) WITHIN GROUP (ORDER BY extract(epoch FROM a.actioned_at - a.sent_at) / 3600)
             ::numeric, 2) AS p90_hours_to_action,
       round(count(*) FILTER (WHERE a.status <> 'withdrawn' AND a.actioned_at IS NOT NULL AND a.outcome <> ''
                              AND a.actioned_at <= a.due_at)::numeric
             / nullif(count(*) FILTER (WHERE a.status <> 'withdrawn'), 0), 4) AS share_within_deadline
  FROM takedown_assignment a
 WHERE a.sent_at >= $1 AND a.sent_at < $2
 GROUP BY a.recipient
"""


async def load(url: str, scale: float, seed: int = 2026) -> dict:
    """The year's data set; returns counts and the regulator's slug."""
    rng = random.Random(seed)
    now = datetime.now(UTC).replace(microsecond=0)
    start, end = datetime(YEAR, 1, 1, tzinfo=UTC), datetime(YEAR + 1, 1, 1, tzinfo=UTC)
    n_requests = int(200_000 * scale)
    connection = await asyncpg.connect(url)
    try:
        tenants, isps = [], []
        kinds = [("isp", n) for n in range(1, N_ISPS + 1)] + [("ngo", 1), ("agency", 1), ("regulator", 1)]
        for tenant_id, (kind, number) in enumerate(kinds, start=1):
            slug = f"{kind}-{number:03d}"
            name = {"isp": f"Operatori {number}", "ngo": "Linja e ndihmës", "agency": "Policia e Shtetit",
                    "regulator": "Autoriteti i Komunikimeve"}[kind]
            tenants.append((tenant_id, slug, kind, name, f"{name} sh.p.k.", f"L{tenant_id:08d}A", "Rruga e Kavajës, Tiranë",
                            f"info@{slug}.example.al", "Zyra e pajtueshmërisë", "Përgjegjës",
                            f"abuse@{slug}.example.al", "+355 4 000 000", kind == "ngo", True, start - timedelta(days=400)))
            if kind == "isp":
                isps.append(tenant_id)
        issuers, issuer_weights = [N_ISPS + 1, N_ISPS + 2, N_ISPS + 3], [80, 15, 5]
        # Incumbents get most of the traffic: weights fall off with the ISP's number.
        isp_weights = [1 / (1 + i) ** 0.8 for i in range(N_ISPS)]

        requests, assignments = [], []
        issued = sorted(start + timedelta(seconds=rng.randrange(int((end - start).total_seconds())))
                        for _ in range(n_requests))
        assignment_id = 0
        for request_id, issued_at in enumerate(issued, start=1):
            issuer = rng.choices(issuers, weights=issuer_weights)[0]
            kind = "block" if rng.random() < 0.85 else "takedown"
            priority = rng.choices(("critical", "high", "normal"), weights=(25, 45, 30))[0]
            due_at = issued_at + timedelta(hours=PRIORITY_HOURS[priority])
            if kind == "block" and rng.random() < 0.02:
                recipients = list(isps)
            else:
                count = rng.choices((1, 2, 3), weights=(60, 30, 10))[0] if kind == "block" else 1
                recipients = set()
                while len(recipients) < count:
                    recipients.add(rng.choices(isps, weights=isp_weights)[0])
            withdrawn = rng.random() < 0.03
            all_closed = True
            for recipient in recipients:
                assignment_id += 1
                status, ack, act, outcome, disputed, closed, withdrawn_at = "sent", None, None, "", None, None, None
                if withdrawn:
                    status, withdrawn_at = "withdrawn", min(now, issued_at + timedelta(hours=rng.randrange(1, 48)))
                else:
                    roll = rng.random()
                    # Most ISPs answer within the deadline; a tail answers late.
                    ack = issued_at + timedelta(minutes=rng.randrange(5, 600) if rng.random() < 0.9
                                                else rng.randrange(600, 4000))
                    act = ack + timedelta(minutes=rng.randrange(10, 1800) if rng.random() < 0.85
                                          else rng.randrange(1800, 7000))
                    if now < due_at:
                        status = "sent" if roll < 0.4 else "acknowledged" if roll < 0.7 else "actioned"
                    else:
                        status = ("actioned" if roll < 0.70 else "closed" if roll < 0.88 else "disputed"
                                  if roll < 0.92 else "sent" if roll < 0.95 else "acknowledged")
                    ack = min(ack, now) if status != "sent" else None
                    if status in ("actioned", "closed"):
                        act, outcome = min(act, now), "blocked" if kind == "block" else "removed"
                    else:
                        act = None
                    if status == "closed":
                        closed = min(act + timedelta(days=rng.randrange(1, 20)), now)
                    if status == "disputed":
                        disputed = min(issued_at + timedelta(hours=rng.randrange(2, 60)), now)
                all_closed &= status == "closed"
                assignments.append((
                    assignment_id, request_id, recipient, issuer, f"TD-{YEAR}-{request_id:06d}", kind, priority,
                    issued_at, status, due_at, issued_at, ack, act, outcome,
                    "Bllokuar në DNS dhe proxy" if outcome else "", disputed,
                    "Adresa nuk është në rrjetin tonë" if disputed else "", closed, withdrawn_at,
                    max(filter(None, (issued_at, ack, act, closed, disputed, withdrawn_at)))))
            requests.append((request_id, issuer, f"TD-{YEAR}-{request_id:06d}", YEAR, request_id, kind,
                             "Kodi Penal, neni 117 (pornografia me të mitur)", priority, "", due_at,
                             "withdrawn" if withdrawn else "closed" if all_closed else "open", None, issued_at,
                             issued_at + timedelta(hours=2) if withdrawn else None,
                             "Adresa u hoq nga pritësi" if withdrawn else "", None))

        await connection.execute("SET synchronous_commit TO off")
        async with connection.transaction():
            await connection.execute("SET LOCAL session_replication_role TO replica")
            await connection.copy_records_to_table("tenant", records=tenants, columns=[
                "id", "slug", "kind", "name", "legal_name", "nipt", "address", "contact_email", "contact_point_name",
                "contact_point_title", "contact_point_email", "contact_point_phone", "is_hotline", "active",
                "created_at"])
            await connection.copy_records_to_table("takedown_request", records=requests, columns=[
                "id", "tenant", "reference", "year", "sequence", "kind", "legal_basis", "priority", "note", "due_at",
                "status", "created_by", "created_at", "withdrawn_at", "withdraw_reason", "closed_at"])
            await connection.copy_records_to_table("takedown_assignment", records=assignments, columns=[
                "id", "request", "recipient", "issuer", "reference", "kind", "priority", "issued_at", "status",
                "due_at", "sent_at", "acknowledged_at",
                "actioned_at", "outcome", "action_note", "disputed_at", "dispute_reason", "closed_at",
                "withdrawn_at", "updated_at"])
            await connection.execute(
                "INSERT INTO takedown_reference_counter (year, last_value) VALUES ($1, $2)", YEAR, n_requests)

            # The Code: one published version, six commitments, every ISP signed, a few measures each.
            version = await connection.fetchval(
                "INSERT INTO coc_version (label, title_sq, title_en, body_sq, body_en, status, content_hash,"
                " published_at) VALUES ('2024', 'Kodi i Sjelljes', 'Code of Conduct', 'Teksti', 'Text', 'published',"
                " $1, $2) RETURNING id", "0" * 64, datetime(YEAR - 1, 3, 1, tzinfo=UTC))
            titles = [("Z1", "Filtrimi i përmbajtjes së paligjshme", "Filtering illegal content"),
                      ("Z2", "Kontrolli prindëror", "Parental controls"),
                      ("Z3", "Kanali i raportimit", "Reporting channel"),
                      ("Z4", "Trajnimi i stafit", "Staff training"),
                      ("Z5", "Ndërgjegjësimi i abonentëve", "Subscriber awareness"),
                      ("Z6", "Bashkëpunimi me autoritetet", "Cooperation with authorities")]
            commitments = [await connection.fetchval(
                "INSERT INTO coc_commitment (version, position, code, title_sq, title_en) VALUES ($1, $2, $3, $4, $5)"
                " RETURNING id", version, position, code, sq, en) for position, (code, sq, en) in enumerate(titles)]
            categories = ["filtering", "parental_controls", "reporting_channel", "staff_training",
                          "subscriber_awareness", "cooperation"]
            measures = 0
            for isp in isps:
                signed = datetime(YEAR - 1, 4, 1, tzinfo=UTC) + timedelta(days=rng.randrange(0, 500))
                await connection.execute(
                    "INSERT INTO coc_signature (tenant, version, signed_hash, signatory_name, signatory_title,"
                    " signed_at) VALUES ($1, $2, $3, 'Drejtori Ekzekutiv', 'Drejtor', $4)",
                    isp, version, "0" * 64, min(signed, now))
                for number in range(rng.randrange(2, 5)):
                    position = rng.randrange(len(categories))
                    started = date(YEAR, 1, 1) + timedelta(days=rng.randrange(0, 300))
                    measure = await connection.fetchval(
                        "INSERT INTO coc_measure (tenant, version, title, description, category, status, start_date,"
                        " end_date, indicators) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9::jsonb) RETURNING id",
                        isp, version, f"Masa {number + 1}: {titles[position][1]}", "Përshkrimi i masës",
                        categories[position], rng.choice(["planned", "in_progress", "done"]), started,
                        started + timedelta(days=180) if rng.random() < 0.5 else None,
                        json.dumps([{"name": "Abonentë të informuar", "value": rng.randrange(100, 90000)}]))
                    await connection.execute(
                        "INSERT INTO coc_measure_commitment (tenant, measure, commitment) VALUES ($1, $2, $3)",
                        isp, measure, commitments[position])
                    measures += 1
            for table in ("tenant", "takedown_request", "takedown_assignment"):
                await connection.execute(
                    f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), (SELECT MAX(id) FROM {table}))")
        await connection.execute("ANALYZE")
    finally:
        await connection.close()
    return {"requests": len(requests), "assignments": len(assignments), "isps": len(isps), "measures": measures,
            "regulator": "regulator-001"}


def _close(a: object, b: object) -> bool:
    if a is None or b is None:
        return a is None and b is None
    return abs(float(a) - float(b)) <= 0.011


CACHE_TABLES = ("annual_report_takedown_figures", "annual_report_takedown_year", "annual_report_takedown_change")


async def clear_cache(admin_url: str) -> None:
    """Empty the per-ISP figures cache, so the next read computes every ISP's year again."""
    connection = await asyncpg.connect(admin_url)
    try:
        await connection.execute("TRUNCATE " + ", ".join(CACHE_TABLES))
    finally:
        await connection.close()


async def _timed(call, repeats: int, before=None) -> tuple[list[float], object]:
    times, result = [], None
    for _ in range(repeats):
        if before is not None:
            await before()
        started = time.perf_counter()
        result = await call()
        times.append(time.perf_counter() - started)
    return times, result


async def measure_figures(admin_url: str, repeats: int) -> dict:
    """The year's per-ISP statistics through the portal (ordinary role) vs one SQL query (asyncpg, administrator).

    Portal side: ``stats.compute`` (the aggregation in PostgreSQL under row-level security, what a
    full refresh runs), ``figures.by_isp`` with the cache emptied before each call (cold: compute and
    store every ISP) and ``figures.by_isp`` on the filled cache (warm: what the dashboard reads).
    """
    from portal.annual_reports import figures
    from portal.core.db import close_pool, rls_bypassed, start_pool, system_transaction
    from portal.takedown import stats

    async def compute():
        async with system_transaction():
            return await stats.compute(YEAR)

    await start_pool()
    try:
        assert not await rls_bypassed(), "the portal under measurement must connect as an ordinary role"
        compute_times, _ = await _timed(compute, repeats)
        cold_times, cold_result = await _timed(lambda: figures.by_isp(YEAR), repeats, lambda: clear_cache(admin_url))
        warm_times, portal_result = await _timed(lambda: figures.by_isp(YEAR), repeats)
    finally:
        await close_pool()
    assert cold_result == portal_result
    # The portal's own statement, numbered for asyncpg: the same aggregation without the portal around it.
    parts = stats.AGGREGATE_SQL.replace("{recipients}", "").split("{}")
    same_sql = "".join(part + (f"${n}" if n < len(parts) else "") for n, part in enumerate(parts, start=1))
    connection = await asyncpg.connect(admin_url)
    try:
        bounds = datetime(YEAR, 1, 1, tzinfo=UTC), datetime(YEAR + 1, 1, 1, tzinfo=UTC)
        now = datetime.now(UTC)
        same_times, _ = await _timed(lambda: connection.fetch(same_sql, now, now, *bounds), repeats)
        sql_times, sql_rows = await _timed(lambda: connection.fetch(BARE_SQL, *bounds), repeats)
    finally:
        await connection.close()
    mismatches = []
    for row in sql_rows:
        mine = portal_result[row["recipient"]]
        for key, value in row.items():
            if key != "recipient" and not _close(mine[key], value):
                mismatches.append((row["recipient"], key, mine[key], value))
    if len(sql_rows) != len(portal_result) or mismatches:
        raise SystemExit(f"portal and SQL figures differ: {mismatches[:5]}")
    return {"compute": compute_times, "cold": cold_times, "warm": warm_times, "sql": sql_times, "same": same_times,
            "isps": len(sql_rows)}


async def measure_export(regulator_slug: str, admin_url: str) -> dict:
    """exports.build of the year's XLSX with the figures cache empty (cold), then filled (warm)."""
    from portal.annual_reports import exports
    from portal.core.actor import Actor
    from portal.core.db import close_pool, start_pool
    from portal.tenants.services import get_tenant_by_slug

    await clear_cache(admin_url)
    await start_pool()
    try:
        regulator = await get_tenant_by_slug(regulator_slug)
        result = {}
        for run in ("cold", "warm"):
            started = time.perf_counter()
            built = await exports.build(regulator, YEAR, "xlsx", Actor.system("bench"))
            result[run] = time.perf_counter() - started
        result["bytes"] = len(built.data)
        started = time.perf_counter()
        await exports.gather(YEAR)
        result["gather"] = time.perf_counter() - started
        return result
    finally:
        await close_pool()


async def measure_parts(repeats: int) -> dict[str, float]:
    """The dashboard's data parts in-process on the warm cache (median ms each), to see what the page costs."""
    from portal.annual_reports import dashboard, figures, services
    from portal.core.db import close_pool, start_pool

    parts = {
        "services.queue": lambda: services.queue(YEAR),
        "figures.by_isp (warm)": lambda: figures.by_isp(YEAR),
        "signatories_by_month": lambda: dashboard.signatories_by_month(YEAR),
        "measures_by_commitment": lambda: dashboard.measures_by_commitment(YEAR),
        "year_data (all of it)": lambda: dashboard.year_data(YEAR),
    }
    await start_pool()
    try:
        return {name: statistics.median((await _timed(call, repeats))[0]) * 1000 for name, call in parts.items()}
    finally:
        await close_pool()


def measure_dashboard(app_url: str, admin_url: str, slug: str, gets: int) -> dict:
    """First GET on a fresh process with the cache empty, again on a warm process, then ``gets`` warm GETs."""
    subprocess.run([sys.executable, "-m", "portal.cli", "create-user", "--email", EMAIL, "--tenant", slug,
                    "--role", "admin", "--password-stdin"], input=PASSWORD + "\n", text=True, check=True,
                   env=portal_env(admin_url), cwd=ROOT, stdout=subprocess.DEVNULL)
    port = free_port()
    command = [sys.executable, "-m", "uvicorn", "portal.app:create_app", "--factory", "--port", str(port),
               "--log-level", "warning", "--no-access-log"]
    path = f"/t/{slug}/annual-report-dashboard?year={YEAR}"
    asyncio.run(clear_cache(admin_url))
    with server(command, portal_env(app_url), port), \
            httpx.Client(base_url=f"http://127.0.0.1:{port}", timeout=120) as client:
        client.get("/login")
        token = client.cookies.get("csrftoken") or ""
        response = client.post("/login", data={"_csrf_token": token, "email": EMAIL, "password": PASSWORD})
        assert response.status_code == 303, response.text[:500]

        def get() -> float:
            started = time.perf_counter()
            response = client.get(path)
            elapsed = time.perf_counter() - started
            assert response.status_code == 200 and "Operatori 1" in response.text, response.text[:500]
            return elapsed

        cold_first = get()
        for _ in range(3):  # warm-up
            get()
        asyncio.run(clear_cache(admin_url))
        cold_warm_process = get()
        warm = [get() for _ in range(gets)]
        one_stale = []
        for _ in range(3):
            asyncio.run(touch_busiest_isp(admin_url))
            one_stale.append(get())
        return {"cold_first": cold_first, "cold": cold_warm_process, "warm": warm, "one_stale": one_stale}


async def touch_busiest_isp(admin_url: str) -> None:
    """Acknowledge one open copy of the busiest ISP (ISP 1), as an ISP's click would: its cached year goes stale."""
    connection = await asyncpg.connect(admin_url)
    try:
        await connection.execute(
            "UPDATE takedown_assignment SET status = 'acknowledged', acknowledged_at = sent_at + interval '1 hour',"
            " updated_at = now() WHERE id = (SELECT id FROM takedown_assignment WHERE recipient = 1 AND status = 'sent'"
            " ORDER BY id LIMIT 1)")
    finally:
        await connection.close()


def _ms(times: list[float]) -> str:
    return f"{statistics.median(times) * 1000:8.1f} ms"


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--scale", type=float, default=1.0)
    parser.add_argument("--gets", type=int, default=20)
    parser.add_argument("--repeats", type=int, default=5)
    args = parser.parse_args()
    with scratch_database() as url:
        started = time.perf_counter()
        counts = asyncio.run(load(url, args.scale))
        print(f"year {YEAR}: {counts['isps']} ISPs, {counts['requests']:,} requests, {counts['assignments']:,} per-ISP"
              f" copies, {counts['measures']} measures; loaded in {time.perf_counter() - started:.1f} s", flush=True)
        app_url = application_role_url(url)
        os.environ.update(portal_env(app_url))
        times = asyncio.run(measure_figures(url, args.repeats))
        export = asyncio.run(measure_export(counts["regulator"], url))
        parts = asyncio.run(measure_parts(args.repeats))
        page = measure_dashboard(app_url, url, counts["regulator"], args.gets)
    sql = statistics.median(times["same"])
    print(f"yearly statistics, {times['isps']} ISPs (median of {args.repeats}):")
    print(f"  BARE_SQL (asyncpg, admin, numeric)   : {_ms(times['sql'])}   (written apart: same figures, checked)")
    print(f"  stats.AGGREGATE_SQL (asyncpg, admin) : {_ms(times['same'])}   (the baseline of the ratios below)")
    for key, name in (("compute", "portal stats.compute (SQL, RLS)"), ("cold", "figures.by_isp, cache empty"),
                      ("warm", "figures.by_isp, cache filled")):
        print(f"  {name:<37}: {_ms(times[key])}   ratio to SQL {statistics.median(times[key]) / sql:6.2f}x")
    print(f"XLSX export of {YEAR} (exports.build: gather + workbook + store + audit), {export['bytes'] / 1024:.0f} KB:"
          f" cache empty {export['cold']:.2f} s, cache filled {export['warm']:.2f} s; gather() alone (filled)"
          f" {export['gather'] * 1000:.0f} ms")
    print(f"dashboard data in-process, cache filled (median of {args.repeats}):")
    for name, ms in parts.items():
        print(f"  {name:<37}: {ms:8.1f} ms")
    ordered = sorted(page["warm"])
    print(f"dashboard page: cold (cache empty) first GET of a fresh process {page['cold_first'] * 1000:.0f} ms,"
          f" warm process {page['cold'] * 1000:.0f} ms")
    print(f"dashboard page, warm ({args.gets} GETs): median {statistics.median(page['warm']) * 1000:.0f} ms,"
          f" p90 {ordered[int(0.9 * (len(ordered) - 1))] * 1000:.0f} ms, max {ordered[-1] * 1000:.0f} ms"
          f"   (target < 300 ms)")
    print(f"dashboard page after one change to the busiest ISP (its year recomputed, 3 times):"
          f" median {statistics.median(page['one_stale']) * 1000:.0f} ms, max {max(page['one_stale']) * 1000:.0f} ms")


if __name__ == "__main__":
    main()
