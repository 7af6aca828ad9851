"""CSV import of reports: row-by-row validation, error report, duplicates, refusals that change nothing, progress."""

import io
from datetime import UTC, datetime, timedelta

import pytest

from portal.core.db import execute, system_transaction
from portal.core.errors import ValidationFailed
from portal.takedown import imports, reports
from portal.takedown.tables import TakedownImport
from tests.takedown.conftest import ANALYST, count


def _csv(text: str, encoding: str = "utf-8") -> io.BytesIO:
    return io.BytesIO(text.encode(encoding))


GOOD = (
    "url,category,note,source_reference\n"
    "http://a.test/1,csam,Foto,KS-1\n"
    "HTTP://A.test:80/1#x,csam,Tjetër raportim,KS-2\n"  # same address, another report: counts
    "http://b.test/,Grooming,,\n"  # the English name works
    "http://c.test/,Bulizëm kibernetik,,\n"  # so does the Albanian one
    "ftp://bad.test/,csam,,\n"
    "http://d.test/,spam,,\n"
    ",,,\n"
    "http://a.test/1,csam,Foto,KS-1\n"  # an exact repeat of line 2
)


async def test_good_rows_go_in_and_bad_rows_are_reported(hotline):
    await reports.record_report(hotline["id"], reports.ReportInput("http://b.test/", "grooming"), channel="analyst",
                                actor=ANALYST)
    result = await imports.import_reports(hotline["id"], _csv(GOOD), "raportime.csv", ANALYST)
    assert (result.total_rows, result.imported_rows, result.error_rows) == (7, 4, 4)
    assert result.repeat_rows == 2  # b.test was already in the queue; a.test/1 came twice
    async with system_transaction():
        items = {r["url"]: r["report_count"] for r in await execute("SELECT url, report_count FROM takedown_item")}
        channels = {r["channel"] for r in await execute("SELECT channel FROM takedown_report")}
    assert items == {"http://a.test/1": 2, "http://b.test/": 2, "http://c.test/": 1}
    assert channels == {"analyst", "import"}
    from portal.core.storage import get_storage

    report = b"".join([chunk async for chunk in get_storage().open(result.error_report_key)]).decode()
    lines = report.splitlines()
    assert lines[0] == "line,error,url,category,note,source_reference"
    assert any(line.startswith("6,") for line in lines)  # ftp
    assert any(line.startswith("7,") for line in lines)  # unknown category
    assert any(line.startswith("8,") for line in lines)  # blank
    assert any(line.startswith("9,") and "2" in line.split(",")[1] for line in lines)  # repeats line 2


@pytest.mark.parametrize(
    ("content", "encoding", "message"),
    [
        ("address;type\nhttp://a.test/;csam\n", "utf-8", "url"),
        ("link,kind\nhttp://a.test/,csam\n", "utf-8", "url"),
        ("url,category\nhttp://a.test/,csam\nhttp://shqipëri.test/,csam\n", "cp1252", "UTF-8"),
        ("", "utf-8", ""),
    ],
)
async def test_file_problems_import_nothing(hotline, content, encoding, message):
    with pytest.raises(ValidationFailed) as caught:
        await imports.import_reports(hotline["id"], _csv(content, encoding), "x.csv", ANALYST)
    assert "file" in caught.value.errors
    assert message in caught.value.errors["file"] or not message
    assert await count("takedown_item") == 0 and await count("takedown_report") == 0
    assert await count("takedown_import") == 0


async def test_too_many_rows_imports_nothing(hotline, monkeypatch):
    monkeypatch.setattr(imports, "MAX_ROWS", 3)
    monkeypatch.setattr(imports, "BATCH_SIZE", 2)
    text = "url,category\n" + "".join(f"http://r{n}.test/,csam\n" for n in range(4))
    with pytest.raises(ValidationFailed):
        await imports.import_reports(hotline["id"], _csv(text), "x.csv", ANALYST)
    assert await count("takedown_report") == 0  # the batches already written were rolled back


async def test_repeats_across_batches_are_found(hotline, monkeypatch):
    monkeypatch.setattr(imports, "BATCH_SIZE", 2)
    text = "url,category\n" + "http://x.test/1,csam\nhttp://x.test/2,csam\nhttp://x.test/3,csam\nhttp://x.test/1,csam\n"
    result = await imports.import_reports(hotline["id"], _csv(text), "x.csv", ANALYST)
    assert (result.imported_rows, result.error_rows) == (3, 1)


async def test_import_pages_access_in_threes(client_factory, factory, hotline, agency):
    analyst = await factory.member(hotline, "analyst")
    officer = await factory.member(hotline, "officer")
    outsider = await factory.member(agency, "analyst")
    c = await client_factory(analyst)
    assert (await c.get("/t/hotline/takedown/reports/import")).status_code == 200
    response = await c.post("/t/hotline/takedown/reports/import", files={"file": ("r.csv", GOOD.encode(), "text/csv")})
    assert response.status_code == 303, response.text
    result_path = response.headers["location"]
    page = await c.get(result_path)
    assert page.status_code == 200 and "r.csv" in page.text
    errors = await c.get(f"{result_path}/errors.csv")
    assert errors.status_code == 200 and errors.text.startswith("line,error")
    for path in ("/t/hotline/takedown/reports/import", result_path, f"{result_path}/errors.csv"):
        assert (await (await client_factory(officer)).get(path)).status_code == 403, path
        response = await (await client_factory(outsider)).get(path)
        assert response.status_code == 404 and "a.test" not in response.text, path
    other_tenant = result_path.replace("/t/hotline/", "/t/policia/")
    assert (await (await client_factory(outsider)).get(other_tenant)).status_code == 404
    assert (await (await client_factory(officer)).post("/t/hotline/takedown/reports/import",
                                                       files={"file": ("r.csv", GOOD.encode(), "text/csv")})).status_code == 403
    assert await count("takedown_import") == 1


async def test_bad_file_through_the_page_is_a_translated_error(client_factory, factory, hotline):
    analyst = await factory.member(hotline, "analyst")
    c = await client_factory(analyst)
    response = await c.post("/t/hotline/takedown/reports/import", files={"file": ("r.csv", b"foo,bar\n1,2\n", "text/csv")})
    assert response.status_code == 422 and "url" in response.text
    missing = await c.post("/t/hotline/takedown/reports/import", data={})
    assert missing.status_code == 422
    assert await count("takedown_report") == 0


async def _finished(import_id: int) -> None:
    await imports.wait(import_id, 60)
    assert imports._running.get(import_id) is None


async def test_progress_is_recorded_while_the_import_runs(hotline, monkeypatch):
    monkeypatch.setattr(imports, "BATCH_SIZE", 2)
    snapshots = []
    write_progress = imports._write_progress

    async def spy(tenant_id, import_id, rows, bytes_read):
        await write_progress(tenant_id, import_id, rows, bytes_read)
        # What another request sees meanwhile: the progress, and not yet a single report.
        record = await imports.get_import(tenant_id, import_id)
        snapshots.append((record["status"], record["total_rows"], record["bytes_read"], await count("takedown_report")))

    monkeypatch.setattr(imports, "_write_progress", spy)
    text = "url,category\n" + "".join(f"http://p{n}.test/,csam\n" for n in range(7))
    import_id = await imports.start_import(hotline["id"], _csv(text), "p.csv", ANALYST)
    await _finished(import_id)
    assert [(status, rows, reports) for status, rows, _read, reports in snapshots] == [
        ("running", 2, 0), ("running", 4, 0), ("running", 6, 0), ("running", 7, 0)]
    assert all(0 < read <= len(text) for _status, _rows, read, _reports in snapshots)
    record = await imports.get_import(hotline["id"], import_id)
    assert (record["status"], record["total_rows"], record["imported_rows"]) == ("done", 7, 7)
    assert record["bytes_read"] == record["bytes_total"] == len(text)
    assert imports.progress_view(record) == {"rows": 7, "about": 7, "percent": 100}
    assert await count("takedown_report") == 7


async def test_a_failed_import_changes_nothing_but_its_record(hotline, monkeypatch):
    await reports.record_report(hotline["id"], reports.ReportInput("http://p1.test/", "grooming"), channel="analyst",
                                actor=ANALYST)
    monkeypatch.setattr(imports, "BATCH_SIZE", 2)
    good = "".join(f"http://p{n}.test/,csam\n" for n in range(6)).encode()
    data = b"url,category\n" + good + "http://shqipëri.test/,csam\n".encode("cp1252")  # not UTF-8 on line 8
    import_id = await imports.start_import(hotline["id"], io.BytesIO(data), "p.csv", ANALYST)
    await _finished(import_id)
    record = await imports.get_import(hotline["id"], import_id)
    assert record["status"] == "failed" and "UTF-8" in record["message"]
    assert await count("takedown_report") == 1 and await count("takedown_item") == 1  # three batches rolled back
    async with system_transaction():
        item = await execute("SELECT report_count FROM takedown_item")
    assert item == [{"report_count": 1}]


async def test_an_unexpected_error_is_recorded_and_imports_nothing(hotline, monkeypatch):
    async def broken(*args):
        raise RuntimeError("disk full")

    monkeypatch.setattr(imports._PostgresWriter, "write", broken)
    monkeypatch.setattr(imports._SqliteWriter, "write", broken)
    import_id = await imports.start_import(hotline["id"], _csv(GOOD), "p.csv", ANALYST)
    await _finished(import_id)
    record = await imports.get_import(hotline["id"], import_id)
    assert record["status"] == "failed" and "disk full" not in record["message"] and record["message"]
    assert await count("takedown_report") == 0


async def test_progress_is_displayed_and_polled(client_factory, factory, hotline):
    analyst = await factory.member(hotline, "analyst")
    c = await client_factory(analyst)
    async with system_transaction():
        record = await TakedownImport.insert(TakedownImport(
            tenant=hotline["id"], filename="i-madh.csv", status="running", total_rows=12_500, bytes_total=4_000_000,
            bytes_read=1_000_000, progress_at=datetime.now(UTC),
        )).returning(TakedownImport.id)
    path = f"/t/hotline/takedown/imports/{record[0]['id']}"
    for response in (await c.get(path), await c.get(f"{path}/progress")):
        assert response.status_code == 200
        assert "12500" in response.text and "50000" in response.text and "25 %" in response.text
        assert f'hx-get="{path}/progress"' in response.text and 'value="25"' in response.text
        assert "HX-Refresh" not in response.headers
    async with system_transaction():
        await execute("UPDATE takedown_import SET status = 'done' WHERE id = {}", record[0]["id"])
    ended = await c.get(f"{path}/progress")
    assert ended.headers["HX-Refresh"] == "true" and "hx-get" not in ended.text
    assert "hx-get" not in (await c.get(path)).text


async def test_an_interrupted_import_is_shown_as_failed(client_factory, factory, hotline):
    analyst = await factory.member(hotline, "analyst")
    async with system_transaction():
        record = await TakedownImport.insert(TakedownImport(
            tenant=hotline["id"], filename="i.csv", status="running", bytes_total=100,
            progress_at=datetime.now(UTC) - imports.STALE_AFTER - timedelta(minutes=1),
        )).returning(TakedownImport.id)
    page = await (await client_factory(analyst)).get(f"/t/hotline/takedown/imports/{record[0]['id']}")
    assert page.status_code == 200 and "hx-get" not in page.text
    assert (await imports.get_import(hotline["id"], record[0]["id"]))["status"] == "failed"


async def test_a_file_failing_midway_through_the_page_says_so(client_factory, factory, hotline):
    analyst = await factory.member(hotline, "analyst")
    c = await client_factory(analyst)
    good = "".join(f"http://a.test/{n},csam\n" for n in range(20)).encode()  # past what the first line's check reads
    data = b"url,category\n" + good + "http://shqipëri.test/,csam\n".encode("cp1252")
    response = await c.post("/t/hotline/takedown/reports/import", files={"file": ("r.csv", data, "text/csv")})
    assert response.status_code == 303
    page = await c.get(response.headers["location"])
    assert "UTF-8" in page.text and 'class="alert alert-error"' in page.text
    assert await count("takedown_report") == 0
