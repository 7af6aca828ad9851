"""Each ISP's block list: kept current in the transaction of every block decision, served as feeds.

A URL whose path is just ``/`` (and has no query) blocks its whole host, so it is a *domain*
entry (the only kind a DNS Response Policy Zone can carry); any other URL is a *url* entry.
``takedown_feed_entry`` counts, per ISP and issuer, the active block requests naming a value, so
a value leaves the list only when the last request naming it is withdrawn or disputed.
``takedown_feed_change`` notes every value that entered or left a list; its id is the cursor of
incremental sync.
"""

from __future__ import annotations

import hashlib
from datetime import datetime

LOCK_NAMESPACE = 7304  # first key of the advisory locks that guard the block lists


def entry_for(url: str, host: str) -> tuple[str, str]:
    """The block-list entry of a request URL: ``("domain", host)`` or ``("url", url)``."""
    _scheme, _sep, rest = url.partition("://")
    _authority, slash, path = rest.partition("/")
    if slash and path == "":
        return "domain", host
    return "url", url


def value_hash(value: str) -> str:
    return hashlib.sha256(value.encode("utf-8")).hexdigest()


async def lock_lists(recipient_ids: list[int]) -> None:
    """Serialise changes to these ISPs' lists until commit, always in ascending order (no deadlocks).

    Change ids then grow in commit order for each ISP, so a ``since`` cursor never skips a change
    that committed after a later-numbered one. SQLite transactions are serialised anyway.
    """
    from portal.core.db import execute, is_postgres

    if not is_postgres():
        return
    for recipient_id in sorted(set(recipient_ids)):
        await execute("SELECT pg_advisory_xact_lock({}, {})", LOCK_NAMESPACE, recipient_id)


async def apply(recipient_id: int, issuer_id: int, entries: list[dict], delta: int, now: datetime) -> None:
    """Add (``delta`` +1) or remove (-1) one request's URLs in an ISP's list, inside the caller's transaction."""
    from portal.core.db import execute

    await lock_lists([recipient_id])
    seen: set[tuple[str, str]] = set()
    for entry in entries:
        entry_type, value = entry_for(entry["url"], entry["host"])
        if (entry_type, value) in seen:
            continue
        seen.add((entry_type, value))
        rows = await execute(
            "INSERT INTO takedown_feed_entry (recipient, issuer, entry_type, value, value_hash, refcount, updated_at)"
            " VALUES ({}, {}, {}, {}, {}, {}, {}) ON CONFLICT (recipient, issuer, entry_type, value_hash)"
            " DO UPDATE SET refcount = takedown_feed_entry.refcount + excluded.refcount,"
            " updated_at = excluded.updated_at RETURNING refcount",
            recipient_id, issuer_id, entry_type, value, value_hash(value), delta, now,
        )
        refcount = rows[0]["refcount"]
        if (delta > 0 and refcount == 1) or (delta < 0 and refcount == 0):
            await execute(
                "INSERT INTO takedown_feed_change (recipient, issuer, entry_type, value, at) VALUES ({}, {}, {}, {}, {})",
                recipient_id, issuer_id, entry_type, value, now,
            )


# ---------------------------------------------------------------------------------------------
# Serving the lists

FORMATS = ("txt", "csv", "rpz", "sha256")


async def _run(recipient_id: int, statements: list[tuple[str, object]]) -> list[list[dict]]:
    """Run read-only queries for one ISP; on PostgreSQL straight on a pooled connection (see requests.api_list...).

    Arguments are a list, or a function of the results so far (same transaction).
    """
    from piccolo.engine.postgres import PostgresEngine

    from portal.core.db import execute, get_engine, tenant_transaction
    from portal.takedown.requests import _numbered

    engine = get_engine()
    results: list[list[dict]] = []
    if isinstance(engine, PostgresEngine) and engine.pool is not None:
        tenant = int(recipient_id)
        async with engine.pool.acquire() as connection:
            await connection.execute(
                f"BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY; SELECT set_config('app.tenant_id', '{tenant}', true),"
                " set_config('app.all_tenants', 'off', true)"
            )
            try:
                for sql, args in statements:
                    if callable(args):  # arguments computed from the earlier results of this transaction
                        args = args(results)
                    results.append(await connection.fetch(_numbered(sql), *args))
            finally:
                await connection.execute("COMMIT")
        return results
    async with tenant_transaction(recipient_id):
        for sql, args in statements:
            if callable(args):
                args = args(results)
            results.append(await execute(sql, *args))
    return results


CURSOR_SQL = "SELECT COALESCE(MAX(id), 0) AS cursor FROM takedown_feed_change WHERE recipient = {}"
CURRENT_SQL = (
    "SELECT DISTINCT entry_type, value FROM takedown_feed_entry WHERE recipient = {} AND refcount > 0"
    " ORDER BY entry_type, value"
)
CHANGED_SQL = "SELECT DISTINCT entry_type, value FROM takedown_feed_change WHERE recipient = {} AND id > {}"
# Which of the changed values are on the list now, looked up by hash (computed in Python: under
# row-level security a hash computed in SQL is not leakproof and would not be used on the index).
# An incremental fetch costs what changed, not what the list holds (PostgreSQL; see the feed index).
PRESENT_SQL = (
    "SELECT DISTINCT entry_type, value FROM takedown_feed_entry WHERE recipient = {} AND refcount > 0"
    " AND value_hash = ANY({})"
)


async def current_cursor(recipient_id: int) -> int:
    """The list's cursor (the ETag's input): on PostgreSQL one autocommit call of ``takedown_feed_cursor``."""
    from piccolo.engine.postgres import PostgresEngine

    from portal.core.db import get_engine

    engine = get_engine()
    if isinstance(engine, PostgresEngine) and engine.pool is not None:
        async with engine.pool.acquire() as connection:
            return int(await connection.fetchval("SELECT takedown_feed_cursor($1)", int(recipient_id)))
    rows = (await _run(recipient_id, [(CURSOR_SQL, [recipient_id])]))[0]
    return int(rows[0]["cursor"])


async def snapshot(
    recipient_id: int, since: int | None, *, whole: bool = True
) -> tuple[int, list[tuple[str, str]], list[tuple[str, str, str]]]:
    """The cursor, the current entries, and (with ``since``) the changes after it as (op, type, value).

    One repeatable-read transaction, so the entries and the cursor describe the same moment. With
    ``since`` and ``whole=False`` the current entries are not read (an empty list is returned) and
    each changed value's state is looked up on its own, so a sync that finds a few changes stays
    cheap however long the list is.
    """
    from portal.core.db import is_postgres

    if since is not None and not whole and is_postgres():
        results = await _run(recipient_id, [
            (CURSOR_SQL, [recipient_id]),
            (CHANGED_SQL, [recipient_id, since]),
            (PRESENT_SQL, lambda done: [recipient_id, sorted({value_hash(row["value"]) for row in done[1]})]),
        ])
        cursor = int(results[0][0]["cursor"])
        present = {(row["entry_type"], row["value"]) for row in results[2]}
        changed = sorted((row["entry_type"], row["value"]) for row in results[1])
        return cursor, [], [("add" if key in present else "remove", *key) for key in changed]
    statements = [(CURSOR_SQL, [recipient_id]), (CURRENT_SQL, [recipient_id])]
    if since is not None:
        statements.append((CHANGED_SQL, [recipient_id, since]))
    results = await _run(recipient_id, statements)
    cursor = int(results[0][0]["cursor"])
    current = [(row["entry_type"], row["value"]) for row in results[1]]
    changes: list[tuple[str, str, str]] = []
    if since is not None:
        changed = results[2]
        present = set(current)
        for row in sorted(changed, key=lambda r: (r["entry_type"], r["value"])):
            key = (row["entry_type"], row["value"])
            changes.append(("add" if key in present else "remove", *key))
    return cursor, current, changes


def render_txt(entries: list[tuple[str, str]], changes: list[tuple[str, str, str]] | None) -> str:
    if changes is not None:
        return "".join(f"{'+' if op == 'add' else '-'}{value}\n" for op, _type, value in changes)
    return "".join(f"{value}\n" for _type, value in entries)


def render_csv(entries: list[tuple[str, str]], changes: list[tuple[str, str, str]] | None) -> str:
    import csv
    import io

    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    if changes is not None:
        writer.writerow(["op", "type", "value"])
        writer.writerows(changes)
    else:
        writer.writerow(["type", "value"])
        writer.writerows(entries)
    return buffer.getvalue()


def render_rpz(entries: list[tuple[str, str]], cursor: int, zone_contact: str = "hostmaster.portal.invalid.") -> str:
    """A Response Policy Zone answering NXDOMAIN for each blocked domain and its subdomains.

    Only domain entries fit a DNS zone (a resolver never sees paths). RPZ is always the whole
    zone: resolvers transfer zones whole, and the SOA serial (the cursor) with the ETag tells
    them when nothing changed.
    """
    lines = [
        "$TTL 300",
        f"@ IN SOA localhost. {zone_contact} {cursor} 3600 600 86400 300",
        "@ IN NS localhost.",
    ]
    for entry_type, value in entries:
        if entry_type != "domain" or value.startswith("["):
            continue
        if _is_ip(value):
            continue  # address triggers need the rpz-ip form; the URL feeds carry them
        lines.append(f"{value} CNAME .")
        lines.append(f"*.{value} CNAME .")
    return "\n".join(lines) + "\n"


def _is_ip(value: str) -> bool:
    import ipaddress

    try:
        ipaddress.ip_address(value)
    except ValueError:
        return False
    return True


def _hashes_of(entry_type: str, value: str) -> set[str]:
    from portal.takedown.urls import url_variants

    if entry_type == "domain":
        texts = {value, f"http://{value}/", f"https://{value}/"}
        if not value.startswith("www.") and not _is_ip(value):
            texts |= {f"www.{value}", f"http://www.{value}/", f"https://www.{value}/"}
    else:
        texts = set(url_variants(value))
    return {value_hash(text) for text in texts}


def render_sha256(entries: list[tuple[str, str]], changes: list[tuple[str, str, str]] | None) -> str:
    """SHA-256 of each normalised URL and its common spellings; ISPs match traffic without the addresses."""
    present: set[str] = set()
    for entry_type, value in entries:
        present |= _hashes_of(entry_type, value)
    if changes is None:
        return "".join(f"{digest}\n" for digest in sorted(present))
    added: set[str] = set()
    removed: set[str] = set()
    for op, entry_type, value in changes:
        digests = _hashes_of(entry_type, value)
        if op == "add":
            added |= digests
        else:
            removed |= digests - present
    return "".join(f"+{d}\n" for d in sorted(added)) + "".join(f"-{d}\n" for d in sorted(removed))


def etag_for(fmt: str, recipient_id: int, cursor: int, since: int | None) -> str:
    """A strong validator: the bytes of a format are a function of the ISP, the cursor and ``since``."""
    suffix = "" if since is None else f"-since{since}"
    return f'"{fmt}-{recipient_id}-{cursor}{suffix}"'
