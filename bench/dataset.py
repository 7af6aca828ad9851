"""A realistic takedown data set in a scratch PostgreSQL database, loaded with COPY in a minute or two.

    python bench/dataset.py [--scale 0.1] [--keep]      # on its own: generate into a scratch DB and print counts

At scale 1: 100 tenants (60 ISPs, one hotline NGO and 19 other NGOs, 15 agencies, 5 regulators),
800,000 queued addresses with 1,000,000 reports behind them, 200,000 requests (85 % blocking)
with about 700,000 per-ISP copies in states that follow their age (recent ones sent or
acknowledged, older ones actioned or closed, a few disputed, withdrawn or overdue), the
timeline events of every step, and each ISP's block list derived from those copies exactly as
the portal keeps it (a value is active while an unwithdrawn, undisputed block request names it).
The first ISP, the national incumbent, is addressed by enough requests to carry about
``primary_entries`` (default 100,000) active block-list values at scale 1.

Rows go in with asyncpg ``copy_records_to_table`` with explicit ids, then the sequences are moved
past them and the tables analysed. The generator connects as the database owner, so row-level
security does not filter its writes.
"""

from __future__ import annotations

import argparse
import asyncio
import hashlib
import random
import time
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

import asyncpg

CATEGORY_WEIGHTS = {
    "csam": 22, "grooming": 8, "cyberbullying": 14, "hate_extremism": 10, "self_harm": 6, "other_illegal": 25,
    "inappropriate": 15,
}
CATEGORY_PRIORITY = {
    "csam": "critical", "grooming": "high", "cyberbullying": "normal", "hate_extremism": "high",
    "self_harm": "normal", "other_illegal": "high", "inappropriate": "normal",
}
PRIORITY_HOURS = {"critical": 24, "high": 48, "normal": 72}
TLDS = ["com", "net", "org", "al", "com.al", "info", "xyz", "ru", "top", "io", "eu", "de"]
WORDS = ["foto", "video", "chat", "forum", "host", "cloud", "media", "share", "pic", "tube", "img", "blog",
         "lajme", "klub", "dosje", "galeri", "file", "cdn", "zone", "link"]
NOTES = ["", "", "", "Raportuar nga prindi", "Gjetur gjatë monitorimit", "Pasqyrë e adresës së mëparshme",
         "Reported by a partner hotline", "Seen in a messaging group", "Confirmed by analyst review"]
RECEIPT_ALPHABET = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789"  # 32 symbols, as in portal.takedown.reports
LEGAL_BASES = ["Ligji nr. 9918/2008 për komunikimet elektronike, neni 127",
               "Kodi Penal, neni 117 (pornografia me të mitur)", "Vendim i Gjykatës së Rrethit Tiranë",
               "Ligji nr. 18/2017 për të drejtat dhe mbrojtjen e fëmijës, neni 28"]


@dataclass
class Dataset:
    tenants: dict[str, int] = field(default_factory=dict)  # slug -> id
    primary_isp: str = ""
    hotline: str = ""
    counts: dict[str, int] = field(default_factory=dict)
    primary_active_entries: int = 0
    seconds: float = 0.0


def _receipt(index: int) -> str:
    # An odd multiplier is a bijection modulo 2**50, so receipts are unique and look random.
    value = (index * 0x9E3779B97F4A7C15 + 12345) % (1 << 50)
    chars = "".join(RECEIPT_ALPHABET[(value >> (5 * k)) & 31] for k in range(10))
    return f"R-{chars[:4]}-{chars[4:8]}-{chars[8:]}"


def _entry(url: str, host: str) -> tuple[str, str]:
    rest = url.partition("://")[2]
    slash, path = rest.partition("/")[1:]
    return ("domain", host) if slash and path == "" else ("url", url)


async def _copy(connection: asyncpg.Connection, table: str, columns: list[str], records: list[tuple]) -> None:
    if records:
        await connection.copy_records_to_table(table, records=records, columns=columns)


async def generate(database_url: str, scale: float = 1.0, seed: int = 2026, primary_entries: int = 100_000) -> Dataset:
    started = time.perf_counter()
    rng = random.Random(seed)
    now = datetime.now(UTC).replace(microsecond=0)
    result = Dataset()
    n_items = int(800_000 * scale)
    n_reports = int(1_000_000 * scale)
    n_requests = int(200_000 * scale)

    connection = await asyncpg.connect(database_url)
    try:
        # --- tenants ------------------------------------------------------------------------
        tenant_rows = []
        kinds = ["isp"] * 60 + ["ngo"] * 20 + ["agency"] * 15 + ["regulator"] * 5
        isp_ids, issuer_ids, issuer_weights = [], [], []
        first_id = (await connection.fetchval("SELECT COALESCE(MAX(id), 0) FROM tenant")) + 1
        for offset, kind in enumerate(kinds):
            tenant_id = first_id + offset
            number = offset + 1
            slug = f"{kind}-{number:03d}"
            hotline = kind == "ngo" and number == 61
            name = {"isp": f"Operatori {number}", "ngo": f"Organizata {number}", "agency": f"Agjencia {number}",
                    "regulator": f"Autoriteti {number}"}[kind]
            tenant_rows.append((tenant_id, slug, kind, name, f"{name} sh.p.k.", f"L{number:08d}A",
                                "Rruga e Kavajës, Tiranë", f"info@{slug}.example.al", "Zyra e pajtueshmërisë",
                                "Përgjegjës", f"abuse@{slug}.example.al", "+355 4 000 000", hotline, True, now))
            result.tenants[slug] = tenant_id
            if kind == "isp":
                isp_ids.append(tenant_id)
            elif kind in ("agency", "regulator") or hotline:
                issuer_ids.append(tenant_id)
                issuer_weights.append(45 if hotline else (3 if kind == "agency" else 2))
            if hotline:
                result.hotline = slug
        await _copy(connection, "tenant", ["id", "slug", "kind", "name", "legal_name", "nipt", "address",
                                           "contact_email", "contact_point_name", "contact_point_title",
                                           "contact_point_email", "contact_point_phone", "is_hotline", "active",
                                           "created_at"], tenant_rows)
        primary = isp_ids[0]
        result.primary_isp = next(slug for slug, tid in result.tenants.items() if tid == primary)

        # --- items, grouped by tenant so each queue is a contiguous id range -------------------
        item_tenants = sorted(rng.choices(issuer_ids, weights=issuer_weights, k=n_items))
        hosts = []
        for h in range(max(1000, n_items // 4)):
            base = f"{rng.choice(WORDS)}{h}.{rng.choice(TLDS)}"
            sub = rng.random()
            hosts.append((f"www.{base}" if sub < 0.15 else f"cdn{h % 7}.{base}" if sub < 0.2 else base, base))
        first_item = (await connection.fetchval("SELECT COALESCE(MAX(id), 0) FROM takedown_item")) + 1
        categories = list(CATEGORY_WEIGHTS)
        item_category = rng.choices(categories, weights=list(CATEGORY_WEIGHTS.values()), k=n_items)
        items = []  # (url, url_hash, host, domain, category)
        ranges: dict[int, list[int]] = defaultdict(lambda: [0, 0])
        first_seen = []
        for index in range(n_items):
            host, domain = hosts[rng.randrange(len(hosts))]
            shape = rng.random()
            if shape < 0.2:
                url = f"https://{host}/"
            elif shape < 0.6:
                url = f"https://{host}/{rng.choice(WORDS)}/{index}.html"
            elif shape < 0.85:
                url = f"http://{host}/v/{index}?id={rng.randrange(10**6)}"
            else:
                url = f"https://{host}/{rng.choice(WORDS)}/{rng.choice(WORDS)}-{index}/"
            items.append((url, hashlib.sha256(url.encode()).hexdigest(), host, domain, item_category[index]))
            tenant_id = item_tenants[index]
            span = ranges[tenant_id]
            if span[1] == 0:
                span[0] = index
            span[1] = index + 1
            first_seen.append(now - timedelta(seconds=rng.randrange(2 * 365 * 86400)))
        # One queue holds a URL once: drop repeated whole-site URLs inside a queue.
        seen_keys: set[tuple[int, str]] = set()
        for index, item in enumerate(items):
            key = (item_tenants[index], item[1])
            if key in seen_keys:
                url = f"https://{item[2]}/?p={index}"
                items[index] = (url, hashlib.sha256(url.encode()).hexdigest(), *item[2:])
            else:
                seen_keys.add(key)
        del seen_keys

        # --- reports: one per item, the rest as repeats (skewed to a few popular addresses) ------
        report_counts = [1] * n_items
        extra_targets = [min(n_items - 1, int(n_items * rng.random() ** 3)) for _ in range(n_reports - n_items)]
        for target in extra_targets:
            report_counts[target] += 1
        channels = ["import", "analyst", "public", "api"]
        report_rows = []
        last_seen = list(first_seen)
        receipt_index = int(time.time())
        for index in range(n_items):
            item_id = first_item + index
            category = items[index][4]
            tenant_id = item_tenants[index]
            moment = first_seen[index]
            for repeat in range(report_counts[index]):
                if repeat:
                    moment = moment + timedelta(seconds=rng.randrange(1, 30 * 86400))
                    moment = min(moment, now)
                receipt_index += 1
                report_rows.append((tenant_id, item_id, _receipt(receipt_index),
                                    rng.choices(channels, weights=(50, 20, 20, 10))[0], category, rng.choice(NOTES),
                                    f"SRC-{receipt_index % 100000:05d}" if rng.random() < 0.3 else "", "", None, "",
                                    moment))
            last_seen[index] = moment

        # --- requests, their URLs, per-ISP copies and timelines ---------------------------------
        n_block = int(n_requests * 0.85)
        active_share = 0.93
        p_primary = min(1.0, primary_entries * scale * 1.05 / max(1, n_block * active_share * 1.4))
        request_rows, url_rows, assignment_rows, event_rows = [], [], [], []
        first_request = (await connection.fetchval("SELECT COALESCE(MAX(id), 0) FROM takedown_request")) + 1
        first_assignment = (await connection.fetchval("SELECT COALESCE(MAX(id), 0) FROM takedown_assignment")) + 1
        requested_items: set[int] = set()
        feed: dict[tuple[int, int, str, str], list] = {}  # (recipient, issuer, type, value) -> [refcount, first, last]
        issued_times = sorted(now - timedelta(seconds=rng.randrange(2 * 365 * 86400)) for _ in range(n_requests))
        sequences: Counter[int] = Counter()
        assignment_id = first_assignment
        for offset, issued_at in enumerate(issued_times):
            request_id = first_request + offset
            issuer = rng.choices(issuer_ids, weights=issuer_weights)[0]
            low, high = ranges[issuer]
            if high <= low:
                issuer, (low, high) = item_tenants[0], ranges[item_tenants[0]]
            kind = "block" if offset < n_block else "takedown"
            picked = {rng.randrange(low, high) for _ in range(rng.choices((1, 2, 3), weights=(70, 20, 10))[0])}
            urls = [items[i] for i in sorted(picked)]
            priority = min((CATEGORY_PRIORITY[u[4]] for u in urls), key=["critical", "high", "normal"].index)
            due_at = issued_at + timedelta(hours=PRIORITY_HOURS[priority])
            sequences[issued_at.year] += 1
            sequence = sequences[issued_at.year]
            reference = f"TD-{issued_at.year}-{sequence:06d}"
            for i in picked:
                requested_items.add(i)
                url, url_hash, host, domain, category = items[i]
                url_rows.append((issuer, request_id, first_item + i, url, url_hash, host, domain, category))
            if kind == "block":
                if rng.random() < 0.03:
                    recipients = list(isp_ids)
                else:
                    recipients = [primary] if rng.random() < p_primary else []
                    recipients += rng.sample(isp_ids[1:], rng.choice((0, 1, 1, 2)))
                    if not recipients:
                        recipients = [rng.choice(isp_ids[1:])]
            else:
                recipients = [rng.choice(isp_ids)]
            withdrawn = rng.random() < 0.03
            request_status = "withdrawn" if withdrawn else "open"
            event_rows.append((request_id, issuer, None, None, "issued", "", None, "analyst@example.al", issuer,
                               issued_at))
            closed_all = True
            for recipient in recipients:
                state = {"status": "sent", "ack": None, "act": None, "outcome": "", "disputed": None, "closed": None,
                         "withdrawn": None}
                overdue_age = now > due_at
                if withdrawn:
                    state["status"] = "withdrawn"
                    state["withdrawn"] = min(now, issued_at + timedelta(hours=rng.randrange(1, 48)))
                else:
                    roll = rng.random()
                    ack = issued_at + timedelta(minutes=rng.randrange(5, 600))
                    act = ack + timedelta(minutes=rng.randrange(10, 1800))
                    if not overdue_age:
                        state["status"] = "sent" if roll < 0.4 else "acknowledged" if roll < 0.7 else "actioned"
                    else:
                        state["status"] = ("actioned" if roll < 0.70 else "closed" if roll < 0.88 else "disputed"
                                           if roll < 0.92 else "sent" if roll < 0.95 else "acknowledged")
                    if state["status"] != "sent":
                        state["ack"] = min(ack, now)
                    if state["status"] in ("actioned", "closed"):
                        state["act"] = min(act, now)
                        state["outcome"] = "blocked" if kind == "block" else "removed"
                    if state["status"] == "closed":
                        state["closed"] = min(act + timedelta(days=rng.randrange(1, 20)), now)
                    if state["status"] == "disputed":
                        state["disputed"] = min(act, now)
                if state["status"] != "closed":
                    closed_all = False
                assignment_rows.append((
                    assignment_id, request_id, recipient, issuer, reference, kind, priority, issued_at, len(urls),
                    state["status"], due_at, issued_at, state["ack"],
                    state["act"], state["outcome"],
                    "Bllokuar në DNS dhe proxy" if state["outcome"] else "", state["disputed"],
                    "Adresa nuk është në rrjetin tonë" if state["disputed"] else "", state["closed"],
                    state["withdrawn"], None, None, max(filter(None, (issued_at, state["ack"], state["act"],
                                                                      state["closed"], state["disputed"],
                                                                      state["withdrawn"])))))
                for event, at in (("acknowledged", state["ack"]), ("actioned", state["act"]),
                                  ("disputed", state["disputed"]), ("closed", state["closed"]),
                                  ("withdrawn", state["withdrawn"])):
                    if at is not None:
                        actor_tenant = issuer if event in ("closed", "withdrawn") else recipient
                        event_rows.append((request_id, issuer, recipient, assignment_id, event, "", None,
                                           f"api-key:1@isp-{recipient}", actor_tenant, at))
                if kind == "block":
                    active = state["status"] in ("sent", "acknowledged", "actioned", "closed")
                    for url, _hash, host, _domain, _category in urls:
                        entry_type, value = _entry(url, host)
                        key = (recipient, issuer, entry_type, value)
                        slot = feed.get(key)
                        if slot is None:
                            slot = feed[key] = [0, issued_at, issued_at]
                        slot[0] += 1 if active else 0
                        slot[2] = max(slot[2], state["withdrawn"] or state["disputed"] or issued_at)
                assignment_id += 1
            if closed_all and not withdrawn:
                request_status = "closed"
            request_rows.append((request_id, issuer, reference, issued_at.year, sequence, kind,
                                 rng.choice(LEGAL_BASES), priority, "", due_at, request_status, None, issued_at,
                                 issued_at + timedelta(hours=2) if withdrawn else None,
                                 "Adresa u hoq nga pritësi" if withdrawn else "", None))

        # --- block lists: entries and their change log (ids in time order) -----------------------
        entry_rows, change_events = [], []
        for (recipient, issuer, entry_type, value), (refcount, first, last) in feed.items():
            entry_rows.append((recipient, issuer, entry_type, value, hashlib.sha256(value.encode()).hexdigest(),
                               refcount, last))
            change_events.append((first, recipient, issuer, entry_type, value))
            if refcount == 0:
                change_events.append((last, recipient, issuer, entry_type, value))
        change_events.sort(key=lambda row: row[0])
        change_rows = [(recipient, issuer, entry_type, value, at)
                       for at, recipient, issuer, entry_type, value in change_events]
        result.primary_active_entries = len({(t, v) for (r, _i, t, v), slot in feed.items()
                                             if r == primary and slot[0] > 0})
        del feed, change_events

        statuses = ["new", "valid", "not_valid", "duplicate", "out_of_jurisdiction"]
        item_rows = []
        for index, (url, url_hash, host, domain, category) in enumerate(items):
            if index in requested_items:
                status = "valid"
            else:
                status = rng.choices(statuses, weights=(50, 20, 15, 10, 5))[0]
            assessed = None if status == "new" else min(first_seen[index] + timedelta(hours=rng.randrange(1, 96)), now)
            item_rows.append((first_item + index, item_tenants[index], url, url_hash, host, domain, category, status,
                              report_counts[index], first_seen[index], last_seen[index], assessed, None,
                              "" if status == "new" else "Vlerësuar", None))
        del items

        await connection.execute("SET synchronous_commit TO off; SET maintenance_work_mem TO '256MB'")
        loaded = ["takedown_item", "takedown_report", "takedown_request", "takedown_request_url",
                  "takedown_assignment", "takedown_event", "takedown_feed_entry", "takedown_feed_change"]
        async with connection.transaction():
            # The rows are consistent by construction: foreign-key triggers are skipped for the load
            # (the administrator's session_replication_role), and
            # secondary indexes are built once after the load instead of row by row during it.
            indexes = await connection.fetch(
                "SELECT i.indexname, i.indexdef FROM pg_indexes i WHERE i.schemaname = 'public'"
                " AND i.tablename = ANY($1::text[]) AND NOT EXISTS (SELECT 1 FROM pg_constraint c"
                " WHERE c.conname = i.indexname)", loaded)
            await connection.execute("SET LOCAL session_replication_role TO replica")
            for index in indexes:
                await connection.execute(f'DROP INDEX "{index["indexname"]}"')
            await _copy(connection, "takedown_item",
                        ["id", "tenant", "url", "url_hash", "host", "registrable_domain", "category", "status",
                         "report_count", "first_reported_at", "last_reported_at", "assessed_at", "assessed_by",
                         "assessment_note", "duplicate_of"], item_rows)
            await _copy(connection, "takedown_report",
                        ["tenant", "item", "receipt", "channel", "category", "description", "source_reference",
                         "contact_encrypted", "submitted_by", "submitter_key", "created_at"], report_rows)
            await _copy(connection, "takedown_request",
                        ["id", "tenant", "reference", "year", "sequence", "kind", "legal_basis", "priority", "note",
                         "due_at", "status", "created_by", "created_at", "withdrawn_at", "withdraw_reason",
                         "closed_at"], request_rows)
            await _copy(connection, "takedown_request_url",
                        ["tenant", "request", "item", "url", "url_hash", "host", "registrable_domain", "category"],
                        url_rows)
            await _copy(connection, "takedown_assignment",
                        ["id", "request", "recipient", "issuer", "reference", "kind", "priority", "issued_at",
                         "url_count", "status", "due_at", "sent_at", "acknowledged_at",
                         "actioned_at", "outcome", "action_note", "disputed_at", "dispute_reason", "closed_at",
                         "withdrawn_at", "reminder_sent_at", "overdue_notified_at", "updated_at"], assignment_rows)
            await _copy(connection, "takedown_event",
                        ["request", "tenant", "recipient", "assignment", "kind", "note", "actor_user_id",
                         "actor_label", "actor_tenant_id", "at"], event_rows)
            await _copy(connection, "takedown_feed_entry",
                        ["recipient", "issuer", "entry_type", "value", "value_hash", "refcount", "updated_at"],
                        entry_rows)
            await _copy(connection, "takedown_feed_change", ["recipient", "issuer", "entry_type", "value", "at"],
                        change_rows)
            for index in indexes:
                await connection.execute(index["indexdef"])
            for year, last_value in sequences.items():
                await connection.execute(
                    "INSERT INTO takedown_reference_counter (year, last_value) VALUES ($1, $2) ON CONFLICT (year)"
                    " DO UPDATE SET last_value = GREATEST(takedown_reference_counter.last_value, excluded.last_value)",
                    year, last_value)
            for table in ("tenant", "takedown_item", "takedown_report", "takedown_request", "takedown_request_url",
                          "takedown_assignment", "takedown_event", "takedown_feed_entry", "takedown_feed_change"):
                await connection.execute(
                    f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), (SELECT COALESCE(MAX(id), 1) FROM {table}))"
                )
        await connection.execute("ANALYZE")
        result.counts = {
            "tenants": len(tenant_rows), "items": len(item_rows), "reports": len(report_rows),
            "requests": len(request_rows), "request_urls": len(url_rows), "assignments": len(assignment_rows),
            "events": len(event_rows), "feed_entries": len(entry_rows), "feed_changes": len(change_rows),
        }
    finally:
        await connection.close()
    result.seconds = time.perf_counter() - started
    return result


def describe(data: Dataset) -> str:
    counts = ", ".join(f"{name} {value:,}" for name, value in data.counts.items())
    return (f"data set: {counts}; {data.primary_isp} has {data.primary_active_entries:,} active block-list values;"
            f" generated in {data.seconds:.1f} s")


def main() -> None:
    from common import scratch_database

    parser = argparse.ArgumentParser()
    parser.add_argument("--scale", type=float, default=1.0)
    parser.add_argument("--keep", action="store_true", help="print the database URL and wait before dropping it")
    args = parser.parse_args()
    with scratch_database() as url:
        data = asyncio.run(generate(url, args.scale))
        print(describe(data))
        if args.keep:
            input(f"{url} — press Enter to drop it ")


if __name__ == "__main__":
    main()
