"""Bulk import of reports from CSV (url, category, note, source reference), streamed row by row.

The file is read as a stream, never whole: memory stays flat however long it is. Each row is
validated on its own; bad rows (an invalid address, an unknown category, a blank or repeated row)
are written to an error report the analyst downloads, good rows go in. The whole import is one
transaction: a problem with the file itself (wrong headers, not UTF-8, too many rows) rolls it
all back, so the queue never holds half a file.

From the upload page an import runs in the background (``start_import``): the page gets an import
record at once (``running``) and polls it. The import's own transaction cannot show its work
before it commits, so progress (rows and bytes read) is written to that record by separate short
transactions, one per batch; the import transaction itself marks it ``done`` with the counts, so
"done" and the reports commit together. If the import fails, it rolls back and the record says
``failed`` with the (translated) reason. If the process dies mid-way, PostgreSQL rolls it back and
the record, with no progress for ``STALE_AFTER``, is shown as interrupted.

On PostgreSQL good rows go in by batches: ``COPY`` into a temporary table, then one statement that
marks the rows seen, upserts the items and inserts the reports. Parsing and normalising (Python,
in a thread) overlap with writing the previous batch (PostgreSQL). Repeated rows are found through
a temporary table too (not a set in memory). SQLite (embedded mode) takes the same rows one by one
and records no progress while it runs: its one writer is the import itself.
"""

from __future__ import annotations

import asyncio
import codecs
import contextvars
import csv
import hashlib
import io
import logging
import secrets
import shutil
import tempfile
import threading
import time
import uuid
from collections.abc import Awaitable, Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import BinaryIO

from portal.audit import services as audit
from portal.core.actor import Actor
from portal.core.db import execute, get_engine, is_postgres, tenant_transaction
from portal.core.errors import NotFound, ValidationFailed
from portal.core.i18n import _, gettext
from portal.core.storage import get_storage, new_storage_key
from portal.takedown.labels import CATEGORIES
from portal.takedown.reports import MAX_DESCRIPTION, MAX_SOURCE_REFERENCE, RECEIPT_ALPHABET, new_receipt
from portal.takedown.tables import TakedownImport
from portal.takedown.urls import InvalidUrl, normalise_url

log = logging.getLogger(__name__)

MAX_ROWS = 100_000
BATCH_SIZE = 5_000  # at most 32**3: the last three characters of an imported receipt number the row
# The parsing thread holds Python's interpreter lock; without letting go of it now and then, the
# event loop waited up to the 5 ms switch interval at every step of a batch's write (measured:
# database writing 7.2 s instead of 4.4 s for 100,000 rows; every 10 rows parsed more slowly).
YIELD_EVERY_ROWS = 50
STALE_AFTER = timedelta(minutes=10)
WAIT_BEFORE_REDIRECT_SECONDS = 2.0  # the upload page shows a file done by then at once, else its progress
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


def _receipts(count: int) -> list[str]:
    """Receipt numbers for one batch: seven random characters shared, then the row's number.

    Numbers next to each other go into adjacent places of the unique index on receipts instead of
    one random page per row. They are as unlikely to collide with an existing one as ten random
    characters would be per batch, and a collision fails the import as a whole, changing nothing.
    Receipts are references, never secrets: nothing is looked up by them.
    """
    prefix = "".join(RECEIPT_ALPHABET[byte & 31] for byte in secrets.token_bytes(7))
    first = f"R-{prefix[:4]}-{prefix[4:]}"
    return [f"{first}{RECEIPT_ALPHABET[n >> 10]}-{RECEIPT_ALPHABET[(n >> 5) & 31]}{RECEIPT_ALPHABET[n & 31]}"
            for n in range(count)]


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
    """Bad rows, written as they are found to a temporary file (spilling to disk past 1 MB).

    The parsing thread and the writer (repeats found in the database) both add to it: a lock keeps
    their lines whole.
    """

    def __init__(self) -> None:
        # Open for the life of the import; ``close()`` ends it.
        self.file = tempfile.SpooledTemporaryFile(max_size=1024 * 1024, mode="w+b")  # noqa: SIM115
        self.text = io.TextIOWrapper(self.file, encoding="utf-8", newline="", write_through=True)
        self.writer = csv.writer(self.text, lineterminator="\n")
        self.writer.writerow(["line", "error", "url", "category", "note", "source_reference"])
        self.count = 0
        self.lock = threading.Lock()

    def add(self, line: int, error: str, values: dict[str, str]) -> None:
        with self.lock:
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
    fingerprint: uuid.UUID  # 128 bits of SHA-256 over the normalised address, category, note and reference


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
    fingerprint = uuid.UUID(bytes=hashlib.sha256(key.encode()).digest()[:16])
    return _GoodRow(line, normalised.url, normalised.url_hash, normalised.host, normalised.registrable_domain,
                    category, note, source_reference, fingerprint), ""


def _repeat(errors: _ErrorReport, row: _GoodRow, first_line: int) -> None:
    errors.add(row.line, _("Repeats line %(line)s.", line=first_line),
               {"url": row.url, "category": row.category, "note": row.note, "source_reference": row.source_reference})


def _drop_repeats_within(rows: list[_GoodRow], errors: _ErrorReport) -> list[_GoodRow]:
    first: dict[uuid.UUID, _GoodRow] = {}
    kept = []
    for row in rows:
        if row.fingerprint in first:
            _repeat(errors, row, first[row.fingerprint].line)
        else:
            first[row.fingerprint] = row
            kept.append(row)
    return kept


# One statement per batch, on the batch COPY'd into takedown_import_rows. ``fresh`` are the rows
# not seen in an earlier batch; the final SELECT lists the others (repeats) with the line they
# repeat, looked up by key for those few rows only (every part sees the tables as they were before
# the statement; a join with the whole growing table of seen rows made a long file quadratic).
# Items are upserted in url_hash order (adjacent places of the (tenant, url_hash) index) and
# RETURNING says which were new; reports join those rows in memory, so no index is probed twice.
_WRITE_BATCH = (
    "WITH fresh AS ("
    " INSERT INTO takedown_import_seen SELECT fingerprint, line FROM takedown_import_rows"
    " ON CONFLICT DO NOTHING RETURNING fingerprint"
    "), good AS (SELECT s.* FROM takedown_import_rows s JOIN fresh USING (fingerprint)"
    "), upserted AS ("
    " INSERT INTO takedown_item (tenant, url, url_hash, host, registrable_domain, category, status, report_count,"
    " first_reported_at, last_reported_at, assessment_note)"
    " SELECT $1, MIN(url), url_hash, MIN(host), MIN(domain), MIN(category), 'new', COUNT(*), $2, $2, ''"
    " FROM good GROUP BY url_hash ORDER BY url_hash"
    " ON CONFLICT (tenant, url_hash) DO UPDATE SET report_count = takedown_item.report_count"
    " + excluded.report_count, last_reported_at = excluded.last_reported_at"
    " RETURNING id, url_hash, (xmax = 0) AS created"
    "), reports AS ("
    " INSERT INTO takedown_report (tenant, item, receipt, channel, category, description, source_reference,"
    " contact_encrypted, submitted_by, submitter_key, created_at)"
    " SELECT $1, u.id, s.receipt, 'import', s.category, s.note, s.source_reference, '', $3, '', $2"
    " FROM good s JOIN upserted u ON u.url_hash = s.url_hash"
    ")"
    " SELECT s.line, (SELECT e.line FROM takedown_import_seen e WHERE e.fingerprint = s.fingerprint) AS first_line,"
    " NULL::bigint AS created FROM takedown_import_rows s"
    " WHERE NOT EXISTS (SELECT FROM fresh f WHERE f.fingerprint = s.fingerprint)"
    " UNION ALL SELECT NULL, NULL, (SELECT COUNT(*) FILTER (WHERE created) FROM upserted)"
)


class _PostgresWriter:
    """Batches into temporary tables on the import transaction's own connection."""

    def __init__(self, tenant_id: int, user_id: int | None, now: datetime) -> None:
        self.tenant_id = tenant_id
        self.user_id = user_id
        self.now = now
        self.connection = get_engine().current_transaction.get().connection

    async def start(self) -> None:
        await self.connection.execute(
            "CREATE TEMP TABLE takedown_import_seen (fingerprint uuid PRIMARY KEY, line integer) ON COMMIT DROP;"
            "CREATE TEMP TABLE takedown_import_rows (fingerprint uuid, line integer, url text, url_hash text,"
            " host text, domain text, category text, note text, source_reference text, receipt text) ON COMMIT DROP"
        )

    async def write(self, rows: list[_GoodRow], errors: _ErrorReport) -> tuple[int, int]:
        """Insert one batch; returns (imported, attached to an existing item)."""
        rows = _drop_repeats_within(rows, errors)
        if not rows:
            return 0, 0
        await self.connection.execute("TRUNCATE takedown_import_rows")
        await self.connection.copy_records_to_table(
            "takedown_import_rows",
            records=[(r.fingerprint, r.line, r.url, r.url_hash, r.host, r.domain, r.category, r.note,
                      r.source_reference, receipt) for r, receipt in zip(rows, _receipts(len(rows)), strict=True)],
        )
        result = await self.connection.fetch(_WRITE_BATCH, self.tenant_id, self.now, self.user_id)
        created = result[-1]["created"]
        repeats = {record["line"]: record["first_line"] for record in result[:-1]}
        if repeats:
            for row in rows:
                if row.line in repeats:
                    _repeat(errors, row, repeats[row.line])
        imported = len(rows) - len(repeats)
        # Every row that did not create a new item attached to one (from before or earlier in the file).
        return imported, imported - int(created)


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
            seen = await execute("SELECT line FROM takedown_import_seen WHERE fingerprint = {}", row.fingerprint.hex)
            if seen:
                _repeat(errors, row, seen[0]["line"])
                continue
            await execute("INSERT INTO takedown_import_seen (fingerprint, line) VALUES ({}, {})", row.fingerprint.hex,
                          row.line)
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
                self.tenant_id, item["id"], new_receipt(), row.category, row.note, row.source_reference,
                self.user_id, self.now,
            )
            imported += 1
            attached += 1 if item["report_count"] > 1 else 0
        return imported, attached


Progress = Callable[[int, int], Awaitable[None]]


def _parse_batches(
    rows: Iterator[tuple[int, list[str]]], stream: BinaryIO, positions: dict[str, int], categories: dict[str, str],
    errors: _ErrorReport, max_rows: int, state: dict[str, float],
) -> Iterator[list[_GoodRow]]:
    """Good rows by batches of ``BATCH_SIZE``; bad ones go to ``errors``. Counts go to ``state``.

    Runs in a thread (one batch per call), so it keeps its own count of time and position.
    """
    batch: list[_GoodRow] = []
    for line, fields in rows:
        values = {name: (fields[index] if index < len(fields) else "") for name, index in positions.items()}
        if not any(value.strip() for value in fields):
            errors.add(line, _("Blank line."), values)
            continue
        state["rows"] += 1
        if state["rows"] % YIELD_EVERY_ROWS == 0:
            time.sleep(0)  # hand the interpreter lock to the event loop if the write in flight needs it
        if state["rows"] > max_rows:
            raise FileRefused(_("The file has more than %(max)s rows; split it into smaller files.", max=max_rows))
        good, problem = _validate(line, values, categories)
        if good is None:
            errors.add(line, problem, values)
        else:
            batch.append(good)
        if len(batch) >= BATCH_SIZE:
            state["bytes"] = _position(stream)
            yield batch
            batch = []
    state["bytes"] = _position(stream)
    if batch:
        yield batch


def _position(stream: BinaryIO) -> int:
    """Bytes of the file read so far (the decoder reads ahead by a few kilobytes)."""
    try:
        return stream.tell()
    except (OSError, ValueError):
        return 0


def _next_timed(batches: Iterator[list[_GoodRow]], state: dict[str, float]) -> list[_GoodRow] | None:
    started = time.perf_counter()
    try:
        return next(batches, None)
    finally:
        state["parse"] += time.perf_counter() - started


async def import_reports(
    tenant_id: int, stream: BinaryIO, filename: str, actor: Actor, *, import_id: int | None = None,
    progress: Progress | None = None,
) -> ImportResult:
    """Import one CSV stream into ``tenant_id``'s queue; see the module docstring for the rules.

    With ``import_id`` (a ``running`` record made by ``start_import``) that record is completed in
    the import's transaction, otherwise one is created; ``progress(rows read, bytes read)`` is
    awaited after each batch. At most ``MAX_ROWS`` rows (the benchmark raises it to show memory
    stays flat however long the file is).
    """
    categories = _category_lookup()
    errors = _ErrorReport()
    try:
        return await _import(tenant_id, stream, filename, actor, categories, errors, MAX_ROWS, import_id, progress)
    finally:
        errors.close()


async def _import(
    tenant_id: int, stream: BinaryIO, filename: str, actor: Actor, categories: dict[str, str], errors: _ErrorReport,
    max_rows: int, import_id: int | None, progress: Progress | None,
) -> ImportResult:
    state = {"rows": 0, "bytes": 0, "parse": 0.0}
    database = 0.0
    now = datetime.now(UTC)
    imported = attached = 0
    started = time.perf_counter()
    rows = _rows(stream)
    try:
        _line, header = next(rows)
    except StopIteration:
        raise FileRefused(_("The file is empty.")) from None
    positions = _columns(header)
    state["parse"] += time.perf_counter() - started
    batches = _parse_batches(rows, stream, positions, categories, errors, max_rows, state)
    async with tenant_transaction(tenant_id):
        writer = _PostgresWriter(tenant_id, actor.user_id, now) if is_postgres() else _SqliteWriter(
            tenant_id, actor.user_id, now)
        started = time.perf_counter()
        await writer.start()
        database += time.perf_counter() - started
        # The next batch is parsed in a thread while this one is written: Python normalises on one
        # core while PostgreSQL works on the other. One write at a time on the transaction's connection.
        parsing = asyncio.ensure_future(asyncio.to_thread(_next_timed, batches, state))
        try:
            while (batch := await parsing) is not None:
                read = (int(state["rows"]), int(state["bytes"]))
                parsing = asyncio.ensure_future(asyncio.to_thread(_next_timed, batches, state))
                started = time.perf_counter()
                done, repeat = await writer.write(batch, errors)
                imported, attached = imported + done, attached + repeat
                if progress is not None:
                    await progress(*read)
                database += time.perf_counter() - started
        finally:
            if not parsing.done():
                # A write failed: let the thread finish the batch it is on before the rollback.
                await asyncio.gather(parsing, return_exceptions=True)
        started = time.perf_counter()
        report_key = ""
        if errors.count:
            report_key = new_storage_key(tenant_id, "takedown-import-errors")
            await get_storage().put(report_key, errors.data(), "text/csv")
        total = int(state["rows"])
        counts = {"total_rows": total, "imported_rows": imported, "repeat_rows": attached, "error_rows": errors.count,
                  "error_report_key": report_key}
        if import_id is None:
            record = await TakedownImport.insert(TakedownImport(
                tenant=tenant_id, filename=filename[:200], status="done", created_by=actor.user_id, created_at=now,
                finished_at=datetime.now(UTC), **counts,
            )).returning(TakedownImport.id)
            import_id = record[0]["id"]
        else:
            finished = await execute(
                "UPDATE takedown_import SET status = 'done', total_rows = {}, imported_rows = {}, repeat_rows = {},"
                " error_rows = {}, error_report_key = {}, bytes_read = bytes_total, progress_at = {}, finished_at = {}"
                " WHERE id = {} AND tenant = {} AND status = 'running' RETURNING id",
                *counts.values(), datetime.now(UTC), datetime.now(UTC), import_id, tenant_id,
            )
            if not finished:  # given up as interrupted meanwhile: its record already says failed
                raise RuntimeError(f"takedown import {import_id} is no longer running")
        await audit.record(
            "takedown.reports_imported", actor=actor, tenant_id=tenant_id, object_type="takedown_import",
            object_id=import_id, detail={"filename": filename[:200], "rows": total, "imported": imported,
                                         "errors": errors.count},
        )
    database += time.perf_counter() - started  # the commit included
    timings = {"parse": state["parse"], "database": database}
    return ImportResult(import_id, total, imported, attached, errors.count, report_key, timings)


# Imports running in this process, by id (a reference keeps each task alive until it ends).
_running: dict[int, asyncio.Task] = {}


def check_header(stream: BinaryIO) -> None:
    """Refuse at once a file that is empty or does not name the columns (it is then read again)."""
    rows = _rows(stream)
    try:
        _line, header = next(rows)
    except StopIteration:
        raise FileRefused(_("The file is empty.")) from None
    finally:
        rows.close()
    _columns(header)


async def start_import(tenant_id: int, upload: BinaryIO, filename: str, actor: Actor) -> int:
    """Record an import as running and run it in the background; returns its id.

    The upload is copied to a temporary file of this process first (the request's own copy goes
    away with the request). A file whose first line is wrong is refused here, before anything is
    recorded.
    """
    copy = tempfile.TemporaryFile()  # noqa: SIM115 - closed by the background task
    try:
        await asyncio.to_thread(shutil.copyfileobj, upload, copy, 1024 * 1024)
        size = copy.tell()
        copy.seek(0)
        await asyncio.to_thread(check_header, copy)
        copy.seek(0)
        now = datetime.now(UTC)
        async with tenant_transaction(tenant_id):
            record = await TakedownImport.insert(TakedownImport(
                tenant=tenant_id, filename=filename[:200], status="running", bytes_total=size, progress_at=now,
                created_by=actor.user_id, created_at=now,
            )).returning(TakedownImport.id)
    except BaseException:
        copy.close()
        raise
    import_id = record[0]["id"]
    _running[import_id] = asyncio.create_task(_run(tenant_id, import_id, copy, filename, actor))
    _running[import_id].add_done_callback(lambda _task: _running.pop(import_id, None))
    return import_id


async def wait(import_id: int, seconds: float) -> None:
    """Wait up to ``seconds`` for an import of this process to end (a small file is done by then)."""
    task = _running.get(import_id)
    if task is not None:
        await asyncio.wait({task}, timeout=seconds)


async def _run(tenant_id: int, import_id: int, stream: BinaryIO, filename: str, actor: Actor) -> ImportResult | None:
    """The background import; its result (``None`` if it failed) is for the benchmark, which awaits the task."""

    async def progress(rows: int, bytes_read: int) -> None:
        await _record_progress(tenant_id, import_id, rows, bytes_read)

    try:
        return await import_reports(tenant_id, stream, filename, actor, import_id=import_id, progress=progress)
    except ValidationFailed as exc:
        message = exc.message
    except Exception:
        log.exception("takedown import %s failed", import_id)
        message = _("The import stopped because of an error on our side. Nothing was imported; try again later.")
    finally:
        stream.close()
    await _finish_failed(tenant_id, import_id, message)
    return None


async def _record_progress(tenant_id: int, import_id: int, rows: int, bytes_read: int) -> None:
    """Write progress in a transaction of its own, committed at once (PostgreSQL only).

    Run in a fresh context so it does not join the import's transaction. SQLite has one writer
    at a time, the import itself, so nothing is recorded there until it ends.
    """
    if not is_postgres():
        return
    await asyncio.create_task(_write_progress(tenant_id, import_id, rows, bytes_read), context=contextvars.Context())


async def _write_progress(tenant_id: int, import_id: int, rows: int, bytes_read: int) -> None:
    async with tenant_transaction(tenant_id):
        await execute(
            "UPDATE takedown_import SET total_rows = {}, bytes_read = {}, progress_at = {}"
            " WHERE id = {} AND tenant = {} AND status = 'running'",
            rows, bytes_read, datetime.now(UTC), import_id, tenant_id,
        )


async def _finish_failed(tenant_id: int, import_id: int, message: str) -> None:
    async with tenant_transaction(tenant_id):
        await execute(
            "UPDATE takedown_import SET status = 'failed', message = {}, finished_at = {}"
            " WHERE id = {} AND tenant = {} AND status = 'running'",
            message, datetime.now(UTC), import_id, tenant_id,
        )


def progress_view(record: dict) -> dict:
    """What the progress display shows: rows read, about how many in all, per cent of the file read."""
    total, done = record["bytes_total"] or 0, min(record["bytes_read"] or 0, record["bytes_total"] or 0)
    percent = int(done * 100 / total) if total else 0
    about = round(record["total_rows"] * total / done) if done else None
    return {"rows": record["total_rows"], "about": about, "percent": percent}


async def get_import(tenant_id: int, import_id: int) -> dict:
    """One import; a ``running`` one with no progress for ``STALE_AFTER`` is recorded as interrupted."""
    async with tenant_transaction(tenant_id):
        row = await TakedownImport.select().where(
            (TakedownImport.id == import_id) & (TakedownImport.tenant == tenant_id)
        ).first()
        if row is None:
            raise NotFound(_("This page does not exist or you do not have access to it."))
        last = row["progress_at"] or row["created_at"]
        if row["status"] == "running" and import_id not in _running and last < datetime.now(UTC) - STALE_AFTER:
            row["status"] = "failed"
            row["message"] = _("The import was interrupted (the server restarted). Nothing was imported; "
                               "import the file again.")
            await execute(
                "UPDATE takedown_import SET status = 'failed', message = {}, finished_at = {}"
                " WHERE id = {} AND status = 'running'", row["message"], datetime.now(UTC), import_id,
            )
    return row


async def list_imports(tenant_id: int, limit: int = 10) -> list[dict]:
    async with tenant_transaction(tenant_id):
        return await TakedownImport.select().where(TakedownImport.tenant == tenant_id).order_by(
            TakedownImport.id, ascending=False
        ).limit(limit)
