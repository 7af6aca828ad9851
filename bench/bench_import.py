"""CSV import of reports through the portal's import service, against a plain COPY of the same rows.

    python bench/bench_import.py [--scale 1.0] [--rows 100000] [--big-rows 1000000]

A scratch database gets the realistic data set (bench/dataset.py, ``--scale``), so the import
de-duplicates against a full queue with its indexes. The CSV (url, category, note,
source_reference) has messy spellings the normaliser must fix (host case, default ports,
fragments, trailing dots, IDN hosts), about 5 % addresses already in the queue, 2 % rows repeated
in the file and 1 % bad rows.

Each import runs in a fresh subprocess (connecting as an ordinary role, so row-level security
checks every row as in production) the way the upload page runs it: ``start_import`` (copy of the
upload, a ``running`` record) and the background task it starts, which parses in a thread while it
writes the previous batch and records progress after every batch. It imports as a real user (every
report's submitter is checked). The import reports its time split into parsing/normalisation (the
thread's time) and database writing (the wall time of every batch write, progress update and the
final record), and its peak RSS (VmHWM). The baseline is ``COPY`` (asyncpg
``copy_records_to_table``) of the same normalised rows into a bare table without indexes, in the
same database and run; a ``COPY FROM`` of the raw CSV text is shown too. A second baseline ``COPY``s the
same rows straight into the portal's own two tables (every index and key, nothing else): the floor that
any way of importing into this schema pays. ``EXPLAIN ANALYZE`` of one
batch's statement (rolled back) shows where PostgreSQL spends the writing time. The 1,000,000-row
import (limit raised for the benchmark) shows the import streams: its peak RSS must match the
100,000-row one.
"""

from __future__ import annotations

import argparse
import asyncio
import csv
import json
import os
import random
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import asyncpg
from common import ROOT, application_role_url, peak_rss_mb, portal_env, scratch_database
from dataset import describe, generate


def _with_host(url: str, change) -> str:
    scheme, _sep, rest = url.partition("://")
    host, slash, path = rest.partition("/")
    return f"{scheme}://{change(host, scheme)}{slash}{path}"


MESSY = [
    lambda u: u.replace("https://", "HTTPS://", 1),
    lambda u: _with_host(u, lambda h, s: h.upper()),
    lambda u: _with_host(u, lambda h, s: f"{h}:{443 if s == 'https' else 80}"),
    lambda u: u + "#section-2",
    lambda u: _with_host(u, lambda h, s: h + "."),
    lambda u: u.replace("/v/", "/%76/"),
]
CATEGORY_SPELLINGS = ["csam", "grooming", "cyberbullying", "hate_extremism", "self_harm", "other_illegal",
                      "inappropriate", "Cyberbullying", "Grooming"]


def make_csv(path: Path, rows: int, existing: list[str], seed: int) -> None:
    rng = random.Random(seed)
    written: list[list[str]] = []
    with path.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(["url", "category", "note", "source_reference"])
        for index in range(rows):
            roll = rng.random()
            if roll < 0.01:
                row = [rng.choice(["ftp://files.example/x", "not a url", "javascript:alert(1)"]),
                       rng.choice(CATEGORY_SPELLINGS), "", ""]
            elif roll < 0.02 and written:
                row = list(rng.choice(written[-5000:]))  # a repeated line
            elif roll < 0.07 and existing:
                row = [rng.choice(existing), rng.choice(CATEGORY_SPELLINGS), "Raportuar përsëri", ""]
            else:
                host = f"{rng.choice(['foto', 'chat', 'media', 'forum', 'kopje'])}{rng.randrange(60000)}." \
                       f"{rng.choice(['com', 'net', 'al', 'com.al', 'org'])}"
                if rng.random() < 0.01:
                    host = f"fëmijë{rng.randrange(1000)}.al"
                url = f"https://{host}/{rng.choice(['v', 'p', 'album'])}/{seed}-{index}"
                if rng.random() < 0.3:
                    url = rng.choice(MESSY)(url)
                row = [url, rng.choice(CATEGORY_SPELLINGS), rng.choice(["", "", "Nga linja e ndihmës"]),
                       f"HL-{seed}-{index}" if rng.random() < 0.4 else ""]
            written.append(row)
            if len(written) > 20000:
                del written[:10000]
            writer.writerow(row)


async def _child(path: str, tenant_slug: str, max_rows: int, user_id: int) -> None:
    from portal.core.actor import Actor
    from portal.core.db import close_pool, start_pool
    from portal.takedown import imports
    from portal.tenants import services

    imports.MAX_ROWS = max_rows  # analysts are limited to 100,000 rows; the memory check imports more
    await start_pool()
    try:
        tenant = await services.get_tenant_by_slug(tenant_slug)
        before = peak_rss_mb(os.getpid())
        started = time.perf_counter()
        # The upload page's path: copy of the upload, a running record, the import in a background task
        # writing its progress after every batch.
        with open(path, "rb") as stream:  # noqa: ASYNC230 - the service reads the file as a stream, as uploads are
            import_id = await imports.start_import(tenant["id"], stream, Path(path).name,
                                                   Actor(user_id=user_id, label="analyst@bench.test"))
        result = await imports._running[import_id]
        elapsed = time.perf_counter() - started
    finally:
        await close_pool()
    print(json.dumps({
        "elapsed": elapsed, "parse": result.timings["parse"], "database": result.timings["database"],
        "total_rows": result.total_rows, "imported": result.imported_rows, "repeats": result.repeat_rows,
        "errors": result.error_rows, "rss_before": before, "rss_peak": peak_rss_mb(os.getpid()),
    }))


def run_import(env: dict[str, str], path: Path, tenant_slug: str, max_rows: int, user_id: int) -> dict:
    output = subprocess.run(
        [sys.executable, str(Path(__file__)), "--child", str(path), "--tenant", tenant_slug,
         "--max-rows", str(max_rows), "--user", str(user_id)],
        env=env, cwd=ROOT, check=True, capture_output=True, text=True,
    ).stdout
    return json.loads(output.strip().splitlines()[-1])


async def analyst_user(url: str) -> int:
    """A user to import as: reports name their submitter, and that key is checked on every row."""
    connection = await asyncpg.connect(url)
    try:
        return await connection.fetchval(
            "INSERT INTO portal_user (email, full_name) VALUES ('analyst@bench.test', 'Bench analyst') RETURNING id")
    finally:
        await connection.close()


async def existing_urls(url: str, tenant_slug: str, count: int) -> list[str]:
    connection = await asyncpg.connect(url)
    try:
        rows = await connection.fetch(
            "SELECT i.url FROM takedown_item i JOIN tenant t ON t.id = i.tenant WHERE t.slug = $1"
            " ORDER BY i.id LIMIT $2", tenant_slug, count)
    finally:
        await connection.close()
    return [row["url"] for row in rows]


async def copy_baseline(url: str, path: Path) -> tuple[float, float, int]:
    """Seconds to COPY the file's normalised good rows into a bare table, and to COPY the raw CSV text."""
    from portal.takedown.imports import _receipts
    from portal.takedown.urls import InvalidUrl, normalise_url

    records = []
    with path.open(encoding="utf-8", newline="") as handle:
        reader = csv.reader(handle)
        next(reader)
        for url_text, category, note, reference in reader:
            try:
                normalised = normalise_url(url_text)
            except InvalidUrl:
                continue
            records.append((normalised.url, normalised.url_hash, normalised.host, normalised.registrable_domain,
                            category, note, reference))
    receipts = [receipt for start in range(0, len(records), 5000)
                for receipt in _receipts(min(5000, len(records) - start))]
    records = [(*record, receipt) for record, receipt in zip(records, receipts, strict=True)]
    connection = await asyncpg.connect(url)
    best_rows, best_raw = float("inf"), float("inf")
    try:
        for attempt in range(3):
            await connection.execute(
                "DROP TABLE IF EXISTS bench_copy_rows; DROP TABLE IF EXISTS bench_copy_raw;"
                "CREATE TABLE bench_copy_rows (url text, url_hash text, host text, domain text, category text,"
                " note text, source_reference text, receipt text);"
                "CREATE TABLE bench_copy_raw (url text, category text, note text, source_reference text)"
            )
            started = time.perf_counter()
            async with connection.transaction():
                await connection.copy_records_to_table("bench_copy_rows", records=records)
            best_rows = min(best_rows, time.perf_counter() - started)
            started = time.perf_counter()
            async with connection.transaction():
                await connection.copy_to_table("bench_copy_raw", source=str(path), format="csv", header=True)
            best_raw = min(best_raw, time.perf_counter() - started)
        await connection.execute("DROP TABLE bench_copy_rows; DROP TABLE bench_copy_raw")
    finally:
        await connection.close()
    return best_rows, best_raw, len(records)


def good_rows(path: Path, drop_repeats: bool = True) -> list:
    """The valid rows of the file; with ``drop_repeats`` only those the import writes (not repeating a line)."""
    from portal.takedown import imports

    categories = imports._category_lookup()
    rows, seen = [], set()
    with path.open(encoding="utf-8", newline="") as handle:
        reader = csv.reader(handle)
        next(reader)
        for line, fields in enumerate(reader, start=2):
            good, _problem = imports._validate(line, dict(zip(["url", "category", "note", "source_reference"], fields,
                                                               strict=False)), categories)
            if good is not None and not (drop_repeats and good.fingerprint in seen):
                seen.add(good.fingerprint)
                rows.append(good)
    return rows


async def copy_into_portal_tables(url: str, rows: list, tenant_slug: str, user_id: int) -> tuple[float, float]:
    """Seconds to ``COPY`` the rows straight into ``takedown_item`` and ``takedown_report``: the floor of any import.

    No import logic at all: the existing items are looked up in one query, new items get their ids
    from the sequence in one query, then one ``COPY`` per table with every index, and with the
    foreign keys checked (first figure) or switched off (second figure, the administrator's
    ``session_replication_role``). As the administrator, so row-level security costs nothing here.
    Rolled back (best of two), then the tables are vacuumed so the import finds them as they were.
    """
    from datetime import UTC, datetime

    from portal.takedown import imports

    now = datetime.now(UTC)
    receipts = [receipt for start in range(0, len(rows), imports.BATCH_SIZE)
                for receipt in imports._receipts(min(imports.BATCH_SIZE, len(rows) - start))]
    first: dict[str, object] = {}
    for row in rows:
        first.setdefault(row.url_hash, row)
    connection = await asyncpg.connect(url)
    best = {True: float("inf"), False: float("inf")}
    try:
        tenant = await connection.fetchval("SELECT id FROM tenant WHERE slug = $1", tenant_slug)
        for checked in (True, False, True, False):
            transaction = connection.transaction()
            await transaction.start()
            if not checked:
                await connection.execute("SET LOCAL session_replication_role TO replica")
            started = time.perf_counter()
            ids = {record["url_hash"]: record["id"] for record in await connection.fetch(
                "SELECT url_hash, id FROM takedown_item WHERE tenant = $1 AND url_hash = ANY($2::text[])",
                tenant, list(first))}
            new = [url_hash for url_hash in first if url_hash not in ids]
            ids.update(zip(new, [record[0] for record in await connection.fetch(
                "SELECT nextval('takedown_item_id_seq') FROM generate_series(1, $1)", len(new))], strict=True))
            await connection.copy_records_to_table(
                "takedown_item", columns=["id", "tenant", "url", "url_hash", "host", "registrable_domain", "category",
                                          "status", "report_count", "first_reported_at", "last_reported_at",
                                          "assessment_note"],
                records=[(ids[h], tenant, first[h].url, h, first[h].host, first[h].domain, first[h].category, "new",
                          1, now, now, "") for h in new])
            await connection.copy_records_to_table(
                "takedown_report", columns=["tenant", "item", "receipt", "channel", "category", "description",
                                            "source_reference", "contact_encrypted", "submitted_by",
                                            "submitter_key", "created_at"],
                records=[(tenant, ids[row.url_hash], receipt, "import", row.category, row.note, row.source_reference,
                          "", user_id, "", now) for row, receipt in zip(rows, receipts, strict=True)])
            best[checked] = min(best[checked], time.perf_counter() - started)
            await transaction.rollback()
        await connection.execute("VACUUM takedown_item")
        await connection.execute("VACUUM takedown_report")
    finally:
        await connection.close()
    return best[True], best[False]


async def explain_batch(url: str, app_url: str, path: Path, tenant_slug: str, user_id: int, batch: int = 10) -> str:
    """Where one batch's statement spends its time: ``EXPLAIN ANALYZE`` of batch ``batch`` (5,000 rows).

    As the application role (row-level security applies), after writing the batches before it in the
    same transaction, which is rolled back (the tables are vacuumed afterwards so the import that
    follows finds them as they were).
    """
    from datetime import UTC, datetime

    from portal.takedown import imports

    rows = good_rows(path, drop_repeats=False)
    batches = [rows[start:start + imports.BATCH_SIZE] for start in range(0, len(rows), imports.BATCH_SIZE)]
    batch = min(batch, len(batches) - 1)
    errors = imports._ErrorReport()
    connection = await asyncpg.connect(app_url)
    lines = []
    try:
        tenant = await connection.fetchval("SELECT id FROM tenant WHERE slug = $1", tenant_slug)
        transaction = connection.transaction()
        await transaction.start()
        await connection.execute("SELECT set_config('app.tenant_id', $1, true)", str(tenant))
        writer = imports._PostgresWriter.__new__(imports._PostgresWriter)
        writer.tenant_id, writer.user_id, writer.now, writer.connection = tenant, user_id, datetime.now(UTC), connection
        await writer.start()
        for earlier in batches[:batch]:
            await writer.write(earlier, errors)
        measured = imports._drop_repeats_within(batches[batch], errors)
        await connection.execute("TRUNCATE takedown_import_rows")
        await connection.copy_records_to_table("takedown_import_rows", records=[
            (r.fingerprint, r.line, r.url, r.url_hash, r.host, r.domain, r.category, r.note, r.source_reference,
             receipt) for r, receipt in zip(measured, imports._receipts(len(measured)), strict=True)])
        plan = await connection.fetch("EXPLAIN (ANALYZE) " + imports._WRITE_BATCH, tenant, writer.now, user_id)
        await transaction.rollback()
    finally:
        errors.close()
        await connection.close()
    for record in plan:
        text = record[0]
        if "Insert on" in text or text.startswith(("Trigger", "Execution")):
            lines.append("    " + text.strip().removeprefix("->  "))
    admin = await asyncpg.connect(url)
    try:
        await admin.execute("VACUUM takedown_item")
        await admin.execute("VACUUM takedown_report")
    finally:
        await admin.close()
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--scale", type=float, default=1.0, help="size of the data set (1.0 = 1,000,000 reports)")
    parser.add_argument("--rows", type=int, default=100_000)
    parser.add_argument("--big-rows", type=int, default=1_000_000, help="0 skips the memory check")
    parser.add_argument("--child", help=argparse.SUPPRESS)
    parser.add_argument("--tenant", help=argparse.SUPPRESS)
    parser.add_argument("--max-rows", type=int, help=argparse.SUPPRESS)
    parser.add_argument("--user", type=int, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        asyncio.run(_child(args.child, args.tenant, args.max_rows, args.user))
        return
    workdir = Path(tempfile.mkdtemp(prefix="bench-import-"))
    with scratch_database() as url:
        data = asyncio.run(generate(url, args.scale))
        print(describe(data))
        env = portal_env(application_role_url(url))  # an ordinary role: row-level security applies
        user_id = asyncio.run(analyst_user(url))
        small = workdir / "reports-100k.csv"
        make_csv(small, args.rows, asyncio.run(existing_urls(url, data.hotline, 20_000)), seed=1)
        copy_rows, copy_raw, good = asyncio.run(copy_baseline(url, small))
        floor_keyed, floor_unkeyed = asyncio.run(copy_into_portal_tables(url, good_rows(small), data.hotline, user_id))
        breakdown = asyncio.run(explain_batch(url, env["PORTAL_DATABASE_URL"], small, data.hotline, user_id))
        result = run_import(env, small, data.hotline, args.rows, user_id)
        big = None
        if args.big_rows:
            big_path = workdir / "reports-1m.csv"
            make_csv(big_path, args.big_rows, [], seed=2)
            big = run_import(env, big_path, "agency-081", args.big_rows, user_id)
            big_path.unlink()
    small.unlink()
    print(f"import of {result['total_rows']:,} rows: {result['imported']:,} imported ({result['repeats']:,} attached"
          f" to existing addresses), {result['errors']:,} rejected (bad or repeated)")
    print(f"  total                 : {result['elapsed']:7.2f} s   (target < 10 s)")
    print(f"  parsing/normalisation : {result['parse']:7.2f} s")
    print(f"  database writing      : {result['database']:7.2f} s")
    print(f"COPY of the {good:,} normalised rows into a bare table : {copy_rows:6.2f} s")
    print(f"COPY FROM of the raw CSV text                   : {copy_raw:6.2f} s")
    print(f"ratio database writing / COPY : {result['database'] / copy_rows:.2f}x   (target <= 3x)")
    print(f"ratio whole import / COPY     : {result['elapsed'] / copy_rows:.2f}x")
    print("COPY of the imported rows straight into takedown_item and takedown_report (ids looked up or taken")
    print("from the sequence beforehand; every index; no de-duplication logic, no row-level security):")
    print(f"  with the foreign keys checked : {floor_keyed:6.2f} s = {floor_keyed / copy_rows:5.1f}x the bare-table COPY;"
          f" import writing / this = {result['database'] / floor_keyed:.2f}x")
    print(f"  with the foreign keys off     : {floor_unkeyed:6.2f} s = {floor_unkeyed / copy_rows:5.1f}x the bare-table COPY")
    print("EXPLAIN ANALYZE of one batch's statement (the 11th of 5,000 rows; application role; rolled back):")
    print(breakdown)
    print(f"peak RSS, import of {result['total_rows']:>9,} rows: {result['rss_peak']:6.0f} MB"
          f" (process before the import: {result['rss_before']:.0f} MB)")
    if big:
        print(f"peak RSS, import of {big['total_rows']:>9,} rows: {big['rss_peak']:6.0f} MB"
              f" (process before the import: {big['rss_before']:.0f} MB; took {big['elapsed']:.1f} s,"
              f" database {big['database']:.1f} s)")
        print(f"ratio peak RSS 1,000,000 / 100,000 rows : {big['rss_peak'] / result['rss_peak']:.2f}x   (target ~1.0x)")


if __name__ == "__main__":
    main()
