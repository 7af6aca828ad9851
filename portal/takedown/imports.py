"""Bulk import of reports from CSV (url, category, note, source reference), streamed row by row.

The file is read as a stream, never whole: memory stays flat however long it is. Each row is
validated on its own; bad rows (an invalid address, an unknown category, a blank or repeated row)
are written to an error report the analyst downloads, good rows go in. The whole import is one
transaction: a problem with the file itself (wrong headers, not UTF-8, too many rows) rolls it
all back, so the queue never holds half a file.

On PostgreSQL good rows go in by batches: ``COPY`` into a temporary table, then one set-based
upsert of the items and one insert of the reports, so 100,000 rows cost a few dozen statements.
Repeated rows are found through a temporary table too (not a set in memory). SQLite (embedded
mode) takes the same rows one by one.
"""

from __future__ import annotations

import asyncio
import codecs
import csv
import hashlib
import io
import secrets
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import BinaryIO

from portal.audit import services as audit
from portal.core.actor import Actor
from portal.core.db import execute, get_engine, is_postgres, tenant_transaction
from portal.core.errors import NotFound, ValidationFailed
from portal.core.i18n import _, gettext
from portal.core.storage import get_storage, new_storage_key
from portal.takedown.labels import CATEGORIES
from portal.takedown.reports import MAX_DESCRIPTION, MAX_SOURCE_REFERENCE, RECEIPT_ALPHABET
from portal.takedown.tables import TakedownImport
from portal.takedown.urls import InvalidUrl, normalise_url

MAX_ROWS = 100_000
BATCH_SIZE = 5_000
REQUIRED_COLUMNS = ("url", "category")
OPTIONAL_COLUMNS = ("note", "source_reference")
COLUMN_ALIASES = {
    "url": "url", "address": "url", "adresa": "url",
    "category": "category", "kategoria": "category",
    "note": "note", "shenim": "note", "shënim": "note", "description": "note",
    "source_reference": "source_reference", "source reference": "source_reference", "reference": "source_reference",
    "referenca": "source_reference",
}


class FileRefused(ValidationFailed):
    """A problem with the file as a whole: nothing of it is imported."""

    def __init__(self, message: str) -> None:
        super().__init__({"file": message}, message)


@dataclass
class ImportResult:
    import_id: int
    total_rows: int
    imported_rows: int
    repeat_rows: int
    error_rows: int
    error_report_key: str = ""
    timings: dict[str, float] = field(default_factory=dict)


def _category_lookup() -> dict[str, str]:
    """Codes, and the English and Albanian names, so a spreadsheet can say it either way."""
    from portal.core import i18n

    lookup: dict[str, str] = {}
    for code, category in CATEGORIES.items():
        lookup[code] = code
        lookup[category.label.casefold()] = code
        token = i18n.current_language.set("sq")
        try:
            lookup[gettext(category.label).casefold()] = code
        finally:
            i18n.current_language.reset(token)
    return lookup


def _fast_receipt() -> str:
    raw = secrets.token_bytes(10)
    chars = "".join(RECEIPT_ALPHABET[byte & 31] for byte in raw)
    return f"R-{chars[:4]}-{chars[4:8]}-{chars[8:]}"


def _rows(stream: BinaryIO) -> Iterator[tuple[int, list[str]]]:
    """(line number, fields) of a UTF-8 CSV file, decoded incrementally."""
    text = codecs.getreader("utf-8-sig")(stream, errors="strict")
    reader = csv.reader(text)
    try:
        for fields in reader:
            yield reader.line_num, fields
    except UnicodeDecodeError:
        raise FileRefused(_(
            "The file is not UTF-8 text (after line %(line)s). In your spreadsheet choose Save as › "
            "“CSV UTF-8” and import it again.", line=reader.line_num,
        )) from None
    except csv.Error as exc:
        raise FileRefused(_("The file is not valid CSV near line %(line)s: %(error)s", line=reader.line_num,
                            error=str(exc))) from None


def _columns(header: list[str]) -> dict[str, int]:
    positions: dict[str, int] = {}
    unknown = []
    for index, name in enumerate(header):
        key = COLUMN_ALIASES.get(name.strip().casefold())
        if key is None:
            if name.strip():
                unknown.append(name.strip())
            continue
        positions.setdefault(key, index)
    missing = [name for name in REQUIRED_COLUMNS if name not in positions]
    if missing or unknown:
        raise FileRefused(_(
            "The first line must name the columns url, category and optionally note and source_reference. "
            "Missing: %(missing)s. Not recognised: %(unknown)s.",
            missing=", ".join(missing) or "—", unknown=", ".join(unknown[:5]) or "—",
        ))
    return positions


class _ErrorReport:
    """Bad rows, written as they are found to a temporary file (spilling to disk past 1 MB)."""

    def __init__(self) -> None:
        # Open for the life of the import; ``close()`` ends it.
        self.file = tempfile.SpooledTemporaryFile(max_size=1024 * 1024, mode="w+b")  # noqa: SIM115
        self.text = io.TextIOWrapper(self.file, encoding="utf-8", newline="", write_through=True)
        self.writer = csv.writer(self.text, lineterminator="\n")
        self.writer.writerow(["line", "error", "url", "category", "note", "source_reference"])
        self.count = 0

    def add(self, line: int, error: str, values: dict[str, str]) -> None:
        self.count += 1
        self.writer.writerow([line, error, values.get("url", "")[:2100], values.get("category", ""),
                              values.get("note", "")[:500], values.get("source_reference", "")])

    def close(self) -> None:
        self.text.close()

    def data(self) -> bytes:
        self.text.flush()
        self.file.seek(0)
        return self.file.read()


@dataclass
class _GoodRow:
    line: int
    url: str
    url_hash: str
    host: str
    domain: str
    category: str
    note: str
    source_reference: str
    fingerprint: str


def _validate(line: int, values: dict[str, str], categories: dict[str, str]) -> tuple[_GoodRow | None, str]:
    try:
        normalised = normalise_url(values.get("url", ""))
    except InvalidUrl as exc:
        return None, exc.message
    category = categories.get(values.get("category", "").strip().casefold())
    if category is None:
        return None, _("Unknown category %(value)s; use one of: %(codes)s", value=values.get("category", "")[:60],
                       codes=", ".join(CATEGORIES))
    note = values.get("note", "").strip()
    if len(note) > MAX_DESCRIPTION:
        return None, _("Keep the description under %(max)s characters.", max=MAX_DESCRIPTION)
    source_reference = values.get("source_reference", "").strip()
    if len(source_reference) > MAX_SOURCE_REFERENCE:
        return None, _("Keep the reference under %(max)s characters.", max=MAX_SOURCE_REFERENCE)
    key = f"{normalised.url_hash}\x1f{category}\x1f{note}\x1f{source_reference}"
    fingerprint = hashlib.sha256(key.encode()).hexdigest()
    return _GoodRow(line, normalised.url, normalised.url_hash, normalised.host, normalised.registrable_domain,
                    category, note, source_reference, fingerprint), ""


def _repeat(errors: _ErrorReport, row: _GoodRow, first_line: int) -> None:
    errors.add(row.line, _("Repeats line %(line)s.", line=first_line),
               {"url": row.url, "category": row.category, "note": row.note, "source_reference": row.source_reference})


def _drop_repeats_within(rows: list[_GoodRow], errors: _ErrorReport) -> list[_GoodRow]:
    first: dict[str, _GoodRow] = {}
    kept = []
    for row in rows:
        if row.fingerprint in first:
            _repeat(errors, row, first[row.fingerprint].line)
        else:
            first[row.fingerprint] = row
            kept.append(row)
    return kept


class _PostgresWriter:
    """Batches into temporary tables on the import transaction's own connection."""

    def __init__(self, tenant_id: int, user_id: int | None, now: datetime) -> None:
        self.tenant_id = tenant_id
        self.user_id = user_id
        self.now = now
        self.connection = get_engine().current_transaction.get().connection

    async def start(self) -> None:
        await self.connection.execute(
            "CREATE TEMP TABLE takedown_import_seen (fingerprint text PRIMARY KEY, line integer) ON COMMIT DROP;"
            "CREATE TEMP TABLE takedown_import_rows (url text, url_hash text, host text, domain text, category text,"
            " note text, source_reference text, receipt text) ON COMMIT DROP"
        )

    async def write(self, rows: list[_GoodRow], errors: _ErrorReport) -> tuple[int, int]:
        """Insert one batch; returns (imported, attached to an existing item)."""
        rows = _drop_repeats_within(rows, errors)
        fresh = await self.connection.fetch(
            "INSERT INTO takedown_import_seen SELECT * FROM unnest($1::text[], $2::int[]) ON CONFLICT DO NOTHING"
            " RETURNING fingerprint",
            [r.fingerprint for r in rows], [r.line for r in rows],
        )
        new = {record["fingerprint"] for record in fresh}
        if len(new) < len(rows):
            earlier = {record["fingerprint"]: record["line"] for record in await self.connection.fetch(
                "SELECT fingerprint, line FROM takedown_import_seen WHERE fingerprint = ANY($1::text[])",
                [r.fingerprint for r in rows if r.fingerprint not in new],
            )}
            for row in rows:
                if row.fingerprint not in new:
                    _repeat(errors, row, earlier.get(row.fingerprint, 0))
            rows = [row for row in rows if row.fingerprint in new]
        if not rows:
            return 0, 0
        await self.connection.execute("TRUNCATE takedown_import_rows")
        await self.connection.copy_records_to_table(
            "takedown_import_rows",
            records=[(r.url, r.url_hash, r.host, r.domain, r.category, r.note, r.source_reference, _fast_receipt())
                     for r in rows],
        )
        # One statement: upsert the items (RETURNING says which were new), then the reports joined
        # to those rows in memory, so no index is probed twice and nothing is counted separately.
        created = await self.connection.fetchval(
            "WITH upserted AS ("
            " INSERT INTO takedown_item (tenant, url, url_hash, host, registrable_domain, category, status, report_count,"
            " first_reported_at, last_reported_at, assessment_note)"
            " SELECT $1, MIN(url), url_hash, MIN(host), MIN(domain), MIN(category), 'new', COUNT(*), $2, $2, ''"
            " FROM takedown_import_rows GROUP BY url_hash"
            " ON CONFLICT (tenant, url_hash) DO UPDATE SET report_count = takedown_item.report_count"
            " + excluded.report_count, last_reported_at = excluded.last_reported_at"
            " RETURNING id, url_hash, (xmax = 0) AS created"
            "), reports AS ("
            " INSERT INTO takedown_report (tenant, item, receipt, channel, category, description, source_reference,"
            " contact_encrypted, submitted_by, submitter_key, created_at)"
            " SELECT $1, u.id, s.receipt, 'import', s.category, s.note, s.source_reference, '', $3, '', $2"
            " FROM takedown_import_rows s JOIN upserted u ON u.url_hash = s.url_hash"
            ") SELECT COUNT(*) FILTER (WHERE created) FROM upserted",
            self.tenant_id, self.now, self.user_id,
        )
        # Every row that did not create a new item attached to one (from before or earlier in the file).
        attached = len(rows) - int(created)
        return len(rows), int(attached)


class _SqliteWriter:
    """Row by row through the ordinary statements (embedded mode)."""

    def __init__(self, tenant_id: int, user_id: int | None, now: datetime) -> None:
        self.tenant_id = tenant_id
        self.user_id = user_id
        self.now = now

    async def start(self) -> None:
        await execute("CREATE TEMP TABLE IF NOT EXISTS takedown_import_seen (fingerprint TEXT PRIMARY KEY, line INTEGER)")
        await execute("DELETE FROM takedown_import_seen")

    async def write(self, rows: list[_GoodRow], errors: _ErrorReport) -> tuple[int, int]:
        imported = attached = 0
        for row in rows:
            seen = await execute("SELECT line FROM takedown_import_seen WHERE fingerprint = {}", row.fingerprint)
            if seen:
                _repeat(errors, row, seen[0]["line"])
                continue
            await execute("INSERT INTO takedown_import_seen (fingerprint, line) VALUES ({}, {})", row.fingerprint, row.line)
            item = (await execute(
                "INSERT INTO takedown_item (tenant, url, url_hash, host, registrable_domain, category, status,"
                " report_count, first_reported_at, last_reported_at, assessment_note)"
                " VALUES ({}, {}, {}, {}, {}, {}, 'new', 1, {}, {}, '') ON CONFLICT (tenant, url_hash) DO UPDATE SET"
                " report_count = takedown_item.report_count + 1, last_reported_at = excluded.last_reported_at"
                " RETURNING id, report_count",
                self.tenant_id, row.url, row.url_hash, row.host, row.domain, row.category, self.now, self.now,
            ))[0]
            await execute(
                "INSERT INTO takedown_report (tenant, item, receipt, channel, category, description, source_reference,"
                " contact_encrypted, submitted_by, submitter_key, created_at)"
                " VALUES ({}, {}, {}, 'import', {}, {}, {}, '', {}, '', {})",
                self.tenant_id, item["id"], _fast_receipt(), row.category, row.note, row.source_reference,
                self.user_id, self.now,
            )
            imported += 1
            attached += 1 if item["report_count"] > 1 else 0
        return imported, attached


async def import_reports(
    tenant_id: int, stream: BinaryIO, filename: str, actor: Actor, *, max_rows: int | None = None
) -> ImportResult:
    """Import one CSV stream into ``tenant_id``'s queue; see the module docstring for the rules.

    ``max_rows`` defaults to the analysts' limit (``MAX_ROWS``); the benchmarks raise it to show
    memory stays flat however long the file is.
    """
    categories = _category_lookup()
    errors = _ErrorReport()
    try:
        return await _import(tenant_id, stream, filename, actor, categories, errors, max_rows or MAX_ROWS)
    finally:
        errors.close()


async def _import(
    tenant_id: int, stream: BinaryIO, filename: str, actor: Actor, categories: dict[str, str], errors: _ErrorReport,
    max_rows: int,
) -> ImportResult:
    import time

    timings = {"parse": 0.0, "database": 0.0}
    now = datetime.now(UTC)
    total = imported = attached = 0
    rows = _rows(stream)
    started = time.perf_counter()
    try:
        _line, header = next(rows)
    except StopIteration:
        raise FileRefused(_("The file is empty.")) from None
    positions = _columns(header)
    timings["parse"] += time.perf_counter() - started
    async with tenant_transaction(tenant_id):
        writer = _PostgresWriter(tenant_id, actor.user_id, now) if is_postgres() else _SqliteWriter(
            tenant_id, actor.user_id, now)
        await writer.start()
        batch: list[_GoodRow] = []
        # A batch is written while the next one is parsed: the database works on one core while
        # Python normalises on another. One write at a time on the transaction's connection.
        pending: asyncio.Task | None = None

        async def timed_write(rows_to_write: list[_GoodRow]) -> tuple[int, int]:
            write_started = time.perf_counter()
            try:
                return await writer.write(rows_to_write, errors)
            finally:
                timings["database"] += time.perf_counter() - write_started

        try:
            while True:
                started = time.perf_counter()
                try:
                    line, fields = next(rows)
                except StopIteration:
                    timings["parse"] += time.perf_counter() - started
                    break
                values = {name: (fields[index] if index < len(fields) else "") for name, index in positions.items()}
                if not any(value.strip() for value in fields):
                    errors.add(line, _("Blank line."), values)
                    timings["parse"] += time.perf_counter() - started
                    continue
                total += 1
                if total > max_rows:
                    raise FileRefused(_("The file has more than %(max)s rows; split it into smaller files.",
                                        max=max_rows))
                good, problem = _validate(line, values, categories)
                if good is None:
                    errors.add(line, problem, values)
                else:
                    batch.append(good)
                timings["parse"] += time.perf_counter() - started
                if pending is not None and total % 500 == 0:
                    await asyncio.sleep(0)  # let the batch in flight send its next statement
                if len(batch) >= BATCH_SIZE:
                    if pending is not None:
                        done, repeat = await pending
                        imported, attached = imported + done, attached + repeat
                    pending = asyncio.create_task(timed_write(batch))
                    batch = []
                    await asyncio.sleep(0)
            if pending is not None:
                done, repeat = await pending
                imported, attached = imported + done, attached + repeat
                pending = None
        finally:
            if pending is not None and not pending.done():
                # The file was refused mid-way: let the write in flight end before the rollback.
                await asyncio.gather(pending, return_exceptions=True)
        started = time.perf_counter()
        if batch:
            done, repeat = await writer.write(batch, errors)
            imported, attached = imported + done, attached + repeat
        report_key = ""
        if errors.count:
            report_key = new_storage_key(tenant_id, "takedown-import-errors")
            await get_storage().put(report_key, errors.data(), "text/csv")
        record = await TakedownImport.insert(TakedownImport(
            tenant=tenant_id, filename=filename[:200], status="done", total_rows=total, imported_rows=imported,
            repeat_rows=attached, error_rows=errors.count, error_report_key=report_key, created_by=actor.user_id,
            created_at=now,
        )).returning(TakedownImport.id)
        await audit.record(
            "takedown.reports_imported", actor=actor, tenant_id=tenant_id, object_type="takedown_import",
            object_id=record[0]["id"],
            detail={"filename": filename[:200], "rows": total, "imported": imported, "errors": errors.count},
        )
        timings["database"] += time.perf_counter() - started
    return ImportResult(record[0]["id"], total, imported, attached, errors.count, report_key, timings)


async def get_import(tenant_id: int, import_id: int) -> dict:
    async with tenant_transaction(tenant_id):
        row = await TakedownImport.select().where(
            (TakedownImport.id == import_id) & (TakedownImport.tenant == tenant_id)
        ).first()
    if row is None:
        raise NotFound(_("This page does not exist or you do not have access to it."))
    return row


async def list_imports(tenant_id: int, limit: int = 10) -> list[dict]:
    async with tenant_transaction(tenant_id):
        return await TakedownImport.select().where(TakedownImport.tenant == tenant_id).order_by(
            TakedownImport.id, ascending=False
        ).limit(limit)
