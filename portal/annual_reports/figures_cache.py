"""Precomputed per-ISP takedown figures of a year, so the dashboard never aggregates a year of requests.

Aggregating a year (hundreds of thousands of assignments, under row-level security) takes over a
second even inside PostgreSQL; the regulators' dashboard must render in well under that. Each
ISP's figures of a year are kept in ``annual_report_takedown_figures`` and recomputed only when
they may have changed:

- a trigger on ``takedown_assignment`` logs (year, recipient) in ``annual_report_takedown_change``
  on every insert and on every update of a column the figures read, whoever writes it (the
  portal's transitions, the deadline checker, an operator's SQL). On PostgreSQL each log row
  carries its transaction id and each cached row the snapshot it was computed in: the row is
  stale exactly when a logged change is not visible in that snapshot, so a transaction still
  running while the figures were computed is never missed. On SQLite writers are serialised and
  the log is emptied in the refreshing transaction itself;
- the clock: a request still open becomes overdue at its deadline. Each row keeps ``open_until``,
  the earliest deadline of an open request that was not yet overdue, and is stale from then on
  (and for a reader whose ``now`` is earlier than the row's ``computed_at``).

So a read never returns figures older than the last committed change or deadline: there is no
lag, only the cost of recomputing the stale ISPs (one ISP's year, not everyone's). The worker
refreshes the current and the previous year every minute, so pages rarely find stale rows. Bulk
loads that bypass triggers (``session_replication_role = replica``) must empty the three tables.

Refreshes of a year are serialised by an advisory lock; a refresh re-reads what is stale after
taking it, so two readers never both recompute the same rows, and an older computation never
overwrites a newer one.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime

from portal.core.db import execute, is_postgres, system_transaction, tenant_transaction
from portal.takedown import stats

LOCK_NAMESPACE = 7305  # first key of the advisory lock that serialises refreshes of one year


def _now(now: datetime | None) -> datetime:
    return now or datetime.now(UTC)


def _in(values: list[int]) -> str:
    return "(" + ", ".join("{}" for _ in values) + ")"


async def _stale(year: int, now: datetime, recipient: int | None) -> set[int]:
    """Recipients of ``year`` whose cached figures (if any) miss a change or a deadline."""
    only = " AND m.recipient = {}" if recipient is not None else ""
    args = [recipient] if recipient is not None else []
    unseen = "c.recipient IS NULL OR NOT pg_visible_in_snapshot(m.xid, c.snapshot)" if is_postgres() else "1 = 1"
    changed = await execute(
        "SELECT DISTINCT m.recipient FROM annual_report_takedown_change m"
        " LEFT JOIN annual_report_takedown_figures c ON c.year = m.year AND c.recipient = m.recipient"
        f" WHERE m.year = {{}}{only} AND ({unseen})", year, *args,
    )
    # A row computed at a later moment than ``now`` (a clock behind another's) may count as overdue
    # what is not yet: recomputed too.
    due = await execute(
        "SELECT recipient FROM annual_report_takedown_figures m WHERE year = {} AND (open_until <= {}"
        " OR computed_at > {})" + only, year, now, now, *args,
    )
    return {row["recipient"] for row in changed} | {row["recipient"] for row in due}


async def _primed(year: int) -> bool:
    return bool(await execute("SELECT 1 AS one FROM annual_report_takedown_year WHERE year = {}", year))


async def _store(year: int, found: dict[int, stats.IspFigures], recipients: list[int], snapshot: str,
                 now: datetime) -> None:
    """Upsert the figures of ``recipients`` (empty figures for those without requests) and prune the log."""
    empty = stats.figures([], now)
    cast = "{}::text::pg_snapshot" if is_postgres() else "{}"
    for recipient in recipients:
        data = (found.get(recipient) or empty).as_dict()
        open_until = data.pop("open_until")
        await execute(
            "INSERT INTO annual_report_takedown_figures (year, recipient, figures, open_until, snapshot, computed_at)"
            f" VALUES ({{}}, {{}}, {{}}, {{}}, {cast}, {{}}) ON CONFLICT (year, recipient) DO UPDATE SET"
            " figures = excluded.figures, open_until = excluded.open_until, snapshot = excluded.snapshot,"
            " computed_at = excluded.computed_at",
            year, recipient, json.dumps(data), open_until, snapshot, now,
        )
    if not recipients:
        return
    covered = " AND pg_visible_in_snapshot(xid, {}::text::pg_snapshot)" if is_postgres() else ""
    await execute(
        f"DELETE FROM annual_report_takedown_change WHERE year = {{}} AND recipient IN {_in(recipients)}{covered}",
        year, *recipients, *([snapshot] if is_postgres() else []),
    )


async def _refresh(year: int, now: datetime, recipient: int | None) -> None:
    """Recompute what is stale (everything, the first time for a whole year), in the caller's transaction."""
    if is_postgres():
        await execute("SELECT pg_advisory_xact_lock({}, {})", LOCK_NAMESPACE, year)
        # Taken before the figures are read: a change committed in between is seen by the
        # aggregate but still counts as unseen, so it only costs one more refresh later.
        snapshot = (await execute("SELECT pg_current_snapshot()::text AS snapshot"))[0]["snapshot"]
    else:
        snapshot = ""
    if recipient is None and not await _primed(year):
        found = await stats.compute(year, now=now)
        await execute("DELETE FROM annual_report_takedown_figures WHERE year = {}", year)
        await _store(year, found, sorted(found), snapshot, now)
        await execute(
            "DELETE FROM annual_report_takedown_change WHERE year = {}"
            + (" AND pg_visible_in_snapshot(xid, {}::text::pg_snapshot)" if is_postgres() else ""),
            year, *([snapshot] if is_postgres() else []),
        )
        await execute("INSERT INTO annual_report_takedown_year (year, computed_at) VALUES ({}, {})", year, now)
        return
    stale = await _stale(year, now, recipient)
    if recipient is not None and not await execute(
        "SELECT 1 AS one FROM annual_report_takedown_figures WHERE year = {} AND recipient = {}", year, recipient
    ):
        stale.add(recipient)
    if stale:
        await _store(year, await stats.compute(year, sorted(stale), now), sorted(stale), snapshot, now)


def _load(row: dict) -> stats.IspFigures:
    return stats.IspFigures(**json.loads(row["figures"]), open_until=stats._aware(row["open_until"]))


async def all_figures(year: int, now: datetime | None = None) -> dict[int, stats.IspFigures]:
    """Every ISP's figures of ``year`` with requests in it (regulators' dashboard and export)."""
    now = _now(now)
    async with system_transaction():
        if not await _primed(year) or await _stale(year, now, None):
            await _refresh(year, now, None)
        rows = await execute(
            "SELECT recipient, figures, open_until FROM annual_report_takedown_figures WHERE year = {}", year
        )
    return {row["recipient"]: figures for row in rows if (figures := _load(row)).received}


async def isp_figures(tenant_id: int, year: int, now: datetime | None = None) -> stats.IspFigures:
    """One ISP's own figures of ``year``, read and refreshed inside its own tenant scope."""
    now = _now(now)
    async with tenant_transaction(tenant_id):
        rows = await execute(
            "SELECT recipient, figures, open_until FROM annual_report_takedown_figures WHERE year = {} AND recipient = {}",
            year, tenant_id,
        )
        if not rows or await _stale(year, now, tenant_id):
            await _refresh(year, now, tenant_id)
            rows = await execute(
                "SELECT recipient, figures, open_until FROM annual_report_takedown_figures"
                " WHERE year = {} AND recipient = {}", year, tenant_id,
            )
    return _load(rows[0])


async def refresh_recent(now: datetime | None = None) -> int:
    """The worker's job: bring the current and the previous year up to date; returns the years refreshed."""
    now = _now(now)
    refreshed = 0
    for year in (now.year, now.year - 1):
        async with system_transaction():
            if not await _primed(year) or await _stale(year, now, None):
                await _refresh(year, now, None)
                refreshed += 1
    return refreshed
