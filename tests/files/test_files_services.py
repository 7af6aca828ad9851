"""The document rules below the pages: bytes and rows stay consistent when one side fails."""

from __future__ import annotations

import logging
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import pytest

from portal.core import storage as storage_module
from portal.core.db import execute, rls_bypassed, tenant_transaction
from portal.core.errors import NotFound
from portal.core.i18n import current_language
from portal.core.storage import LocalStorage
from portal.files import services
from tests.conftest import TEST_ACTOR
from tests.files import samples
from tests.files.conftest import audit_entries, file_rows, stored_objects


class StorageThatRefusesWrites(LocalStorage):
    async def put(self, key: str, data: bytes, content_type: str) -> None:
        raise ConnectionError("storage is down")


class StorageThatRefusesDeletes(LocalStorage):
    async def delete(self, key: str) -> None:
        raise ConnectionError("storage is down")


async def test_a_failed_database_write_removes_the_stored_bytes(factory, storage_root, monkeypatch):
    tenant = await factory.tenant("ngo")

    async def audit_fails(*args, **kwargs):
        raise RuntimeError("audit log unavailable")

    monkeypatch.setattr(services.audit, "record", audit_fails)
    with pytest.raises(RuntimeError, match="audit log unavailable"):
        await services.store_file(tenant, data=samples.pdf(), filename="a.pdf", actor=TEST_ACTOR)
    assert await file_rows() == []
    assert stored_objects(storage_root) == []


async def test_storage_refusing_the_bytes_writes_no_row(factory, storage_root, monkeypatch):
    tenant = await factory.tenant("ngo")
    monkeypatch.setattr(storage_module, "get_storage", lambda: StorageThatRefusesWrites(storage_root))
    with pytest.raises(services.StorageUnavailable) as caught:
        await services.store_file(tenant, data=samples.pdf(), filename="a.pdf", actor=TEST_ACTOR)
    assert caught.value.status_code == 503
    assert caught.value.message == "Dokumenti nuk mund të ruhej tani. Asgjë nuk u ruajt; provoni përsëri pas pak."
    assert await file_rows() == []
    assert await audit_entries(tenant["id"]) == []


async def test_upload_page_reports_storage_trouble(factory, client_factory, storage_root, monkeypatch):
    tenant = await factory.tenant("ngo")
    admin = await factory.member(tenant, "admin")
    client = await client_factory(admin)
    monkeypatch.setattr(storage_module, "get_storage", lambda: StorageThatRefusesWrites(storage_root))
    response = await client.post(
        f"/t/{tenant['slug']}/files", {"description": ""}, files={"file": ("a.pdf", samples.pdf(), "application/pdf")},
    )
    assert response.status_code == 503
    assert "Asgjë nuk u ruajt" in response.text
    assert await file_rows() == []


async def test_storing_inside_an_open_transaction_is_refused(factory, storage_root):
    tenant = await factory.tenant("ngo")
    with pytest.raises(RuntimeError, match="outside any transaction"):
        async with tenant_transaction(tenant["id"]):
            await services.store_file(tenant, data=samples.pdf(), filename="a.pdf", actor=TEST_ACTOR)
    assert stored_objects(storage_root) == []
    assert await file_rows() == []


async def test_missing_bytes_give_a_clear_404_and_no_download_entry(factory, client_factory, storage_root):
    tenant = await factory.tenant("ngo")
    admin = await factory.member(tenant, "admin")
    row = await services.store_file(tenant, data=samples.pdf(), filename="a.pdf", actor=TEST_ACTOR)
    (storage_root / row["storage_key"]).unlink()
    client = await client_factory(admin)
    response = await client.get(f"/t/{tenant['slug']}/files/{row['id']}")
    assert response.status_code == 404
    assert "Përmbajtja e këtij dokumenti nuk u gjet në ruajtje." in response.text
    assert "file.downloaded" not in [entry["action"] for entry in await audit_entries(tenant["id"])]


async def test_delete_stays_done_when_storage_cannot_remove_the_bytes(factory, storage_root, monkeypatch, caplog):
    tenant = await factory.tenant("ngo")
    row = await services.store_file(tenant, data=samples.pdf(), filename="a.pdf", actor=TEST_ACTOR)
    monkeypatch.setattr(storage_module, "get_storage", lambda: StorageThatRefusesDeletes(storage_root))
    with caplog.at_level(logging.ERROR, logger="portal.files.services"):
        await services.delete_document(tenant, row["id"], reason="Dublikatë", actor=TEST_ACTOR)
    assert (await file_rows())[0]["deleted_at"] is not None
    assert row["storage_key"] in caplog.text  # named for a later clean-up
    with pytest.raises(NotFound):
        await services.get_document(tenant, row["id"])


async def test_services_never_reach_another_organisations_documents(factory):
    alfa = await factory.tenant("isp")
    beta = await factory.tenant("isp")
    row = await services.store_file(alfa, data=samples.pdf(), filename="alfa.pdf", actor=TEST_ACTOR)
    with pytest.raises(NotFound):
        await services.get_document(beta, row["id"])
    with pytest.raises(NotFound):
        await services.open_document(beta, row["id"], TEST_ACTOR)
    with pytest.raises(NotFound):
        await services.delete_document(beta, row["id"], reason="x", actor=TEST_ACTOR)
    assert (await services.list_documents(beta)).rows == []
    assert (await file_rows())[0]["deleted_at"] is None


@asynccontextmanager
async def ordinary_role() -> AsyncIterator[str | None]:
    """A role that row-level security binds, if the test database connection is a superuser's."""
    if not await rls_bypassed():
        yield None
        return
    name = f"portal_rls_probe_{uuid.uuid4().hex[:10]}"
    await execute(f'CREATE ROLE "{name}" NOLOGIN')
    try:
        await execute(f'GRANT SELECT ON stored_file TO "{name}"')
        yield name
    finally:
        await execute(f'REVOKE ALL ON stored_file FROM "{name}"')
        await execute(f'DROP ROLE "{name}"')


async def unfiltered_filenames(tenant_id: int, role: str | None) -> list[str]:
    async with tenant_transaction(tenant_id):
        if role:
            await execute(f'SET LOCAL ROLE "{role}"')
        return [row["filename"] for row in await execute("SELECT filename FROM stored_file")]  # no tenant filter


@pytest.mark.postgres
async def test_row_level_security_hides_other_organisations_files_from_an_unfiltered_query(factory):
    alfa = await factory.tenant("isp")
    beta = await factory.tenant("isp")
    await services.store_file(alfa, data=samples.pdf(), filename="alfa.pdf", actor=TEST_ACTOR)
    async with ordinary_role() as role:
        assert await unfiltered_filenames(beta["id"], role) == []
        assert await unfiltered_filenames(alfa["id"], role) == ["alfa.pdf"]


@pytest.mark.parametrize(
    ("language", "size", "expected"),
    [
        ("sq", 1, "1 bajt"),
        ("en", 1, "1 byte"),
        ("en", 900, "900 bytes"),
        ("sq", 1536, "1,5 KB"),
        ("en", 1536, "1.5 KB"),
        ("sq", 20 * 1024 * 1024, "20 MB"),
        ("en", 3 * 1024**3, "3 GB"),
    ],
)
def test_sizes_read_naturally_in_each_language(language, size, expected):
    token = current_language.set(language)
    try:
        assert services.size_label(size) == expected
    finally:
        current_language.reset(token)


def test_type_labels_name_the_format_people_know():
    token = current_language.set("sq")
    try:
        assert services.type_label("text/plain") == "Tekst"
        xlsx = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
        assert services.type_label(xlsx) == "Excel (XLSX)"
    finally:
        current_language.reset(token)
