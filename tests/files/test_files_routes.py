"""The Documents pages through HTTP: upload, list, download, delete, access rules and bad input."""

from __future__ import annotations

import json
import re
from urllib.parse import quote

import pytest

from portal.core.settings import get_settings
from tests.files import samples
from tests.files.conftest import audit_entries, file_rows, stored_objects
from tests.s3server import portal_storage_on

DISGUISED_MESSAGE = "Ky lloj skedari nuk pranohet. Ngarkoni një skedar PDF, PNG, JPEG, DOCX, XLSX, ODT, CSV ose TXT."


async def upload(
    client, slug: str, name: str, data: bytes, description: str = "", claimed_type: str = "application/pdf"
):
    """Post the upload form as a browser would (the browser's claimed type is deliberately ignored)."""
    return await client.post(
        f"/t/{slug}/files", {"description": description}, files={"file": (name, data, claimed_type)},
    )


def detail_of(entry: dict) -> dict:
    return json.loads(entry["detail"]) if isinstance(entry["detail"], str) else entry["detail"]


def file_error(html: str) -> str:
    match = re.search(r'<p class="error" id="f-file-error">([^<]*)</p>', html)
    return match.group(1) if match else ""


async def organisation_with_staff(factory, kind: str = "ngo", **profile):
    tenant = await factory.tenant(kind, **profile)
    members = [await factory.member(tenant, role) for role in ("admin", "officer", "viewer")]
    return tenant, *members


# --- the normal path -----------------------------------------------------------------------------

async def test_admin_uploads_a_document_and_sees_it_listed(factory, client_factory, storage_root):
    tenant, admin, _, _ = await organisation_with_staff(factory, name="Qendra ALO 116")
    client = await client_factory(admin)
    data = samples.pdf()

    response = await upload(client, tenant["slug"], "Marrëveshja me AKCESK.pdf", data, "Marrëveshja e nënshkruar, 2026")
    assert response.status_code == 303
    assert response.headers["location"] == f"/t/{tenant['slug']}/files"

    rows = await file_rows(tenant["id"])
    assert len(rows) == 1
    row = rows[0]
    assert row["filename"] == "Marrëveshja me AKCESK.pdf"
    assert (row["content_type"], row["size_bytes"]) == ("application/pdf", len(data))
    assert row["uploaded_by"] == admin.user["id"]
    assert row["deleted_at"] is None
    assert (storage_root / row["storage_key"]).read_bytes() == data
    assert row["storage_key"].startswith(f"tenants/{tenant['id']}/documents/")

    entries = await audit_entries(tenant["id"])
    assert [entry["action"] for entry in entries] == ["file.uploaded"]
    assert entries[0]["object_id"] == str(row["id"])
    assert detail_of(entries[0])["sha256"] == row["sha256"]

    page = await client.get(f"/t/{tenant['slug']}/files")
    assert page.status_code == 200
    assert "Marrëveshja e nënshkruar, 2026" in page.text
    assert f'href="/t/{tenant["slug"]}/files/{row["id"]}"' in page.text
    assert admin.user["full_name"] in page.text
    assert "<td>PDF</td>" in page.text
    assert f"<td>{len(data)} bajt</td>" in page.text
    assert f'href="/t/{tenant["slug"]}/files/{row["id"]}/delete"' in page.text


async def test_officer_downloads_the_exact_bytes_with_safe_headers(factory, client_factory):
    tenant, admin, officer, _ = await organisation_with_staff(factory)
    admin_client = await client_factory(admin)
    await upload(admin_client, tenant["slug"], "Raport vjetor ç.docx", samples.docx(), claimed_type="text/html")
    row = (await file_rows(tenant["id"]))[0]

    client = await client_factory(officer)
    response = await client.get(f"/t/{tenant['slug']}/files/{row['id']}")
    assert response.status_code == 200
    assert response.content == samples.docx()
    assert response.headers["content-type"] == "application/vnd.openxmlformats-officedocument.wordprocessingml.document"
    assert response.headers["x-content-type-options"] == "nosniff"
    assert response.headers["content-disposition"] == (
        "attachment; filename=\"Raport vjetor c.docx\"; filename*=UTF-8''" + quote("Raport vjetor ç.docx", safe="")
    )
    assert response.headers["cache-control"] == "private, no-store"

    downloads = [entry for entry in await audit_entries(tenant["id"]) if entry["action"] == "file.downloaded"]
    assert len(downloads) == 1
    assert downloads[0]["object_id"] == str(row["id"])
    assert downloads[0]["actor_label"] == officer.email


async def test_text_files_download_as_text_attachments(factory, client_factory):
    tenant, admin, _, _ = await organisation_with_staff(factory)
    client = await client_factory(admin)
    await upload(client, tenant["slug"], "lista.csv", samples.csv(), claimed_type="application/octet-stream")
    row = (await file_rows(tenant["id"]))[0]
    response = await client.get(f"/t/{tenant['slug']}/files/{row['id']}")
    assert response.content == samples.csv()
    assert response.headers["content-type"].startswith("text/csv")
    assert response.headers["content-disposition"].startswith('attachment; filename="lista.csv"')


async def test_officer_deletes_with_a_reason_and_the_bytes_are_removed(factory, client_factory, storage_root):
    tenant, admin, officer, _ = await organisation_with_staff(factory)
    await upload(await client_factory(admin), tenant["slug"], "draft.pdf", samples.pdf(), "Draft i vjetër")
    row = (await file_rows(tenant["id"]))[0]
    client = await client_factory(officer)

    confirm = await client.get(f"/t/{tenant['slug']}/files/{row['id']}/delete")
    assert confirm.status_code == 200
    assert "Fshirja e dokumentit" in confirm.text
    assert "draft.pdf" in confirm.text

    response = await client.post(
        f"/t/{tenant['slug']}/files/{row['id']}/delete", {"reason": "U zëvendësua nga versioni përfundimtar"}
    )
    assert response.status_code == 303

    row_after = (await file_rows(tenant["id"]))[0]
    assert row_after["deleted_at"] is not None  # soft delete: the record stays for the audit trail
    assert stored_objects(storage_root) == []
    deleted = [entry for entry in await audit_entries(tenant["id"]) if entry["action"] == "file.deleted"]
    assert len(deleted) == 1
    assert detail_of(deleted[0])["reason"] == "U zëvendësua nga versioni përfundimtar"
    assert deleted[0]["actor_label"] == officer.email

    page = await client.get(f"/t/{tenant['slug']}/files")
    assert "Draft i vjetër" not in page.text
    assert "Ende nuk ka dokumente." in page.text
    assert (await client.get(f"/t/{tenant['slug']}/files/{row['id']}")).status_code == 404
    again = await client.post(f"/t/{tenant['slug']}/files/{row['id']}/delete", {"reason": "përsëri"})
    assert again.status_code == 404


async def test_delete_without_a_reason_is_refused_and_changes_nothing(factory, client_factory, storage_root):
    tenant, admin, _, _ = await organisation_with_staff(factory)
    client = await client_factory(admin)
    await upload(client, tenant["slug"], "a.pdf", samples.pdf())
    row = (await file_rows(tenant["id"]))[0]
    response = await client.post(f"/t/{tenant['slug']}/files/{row['id']}/delete", {"reason": "   "})
    assert response.status_code == 422
    assert "Shkruani arsyen e fshirjes së këtij dokumenti." in response.text
    assert (await file_rows(tenant["id"]))[0]["deleted_at"] is None
    assert len(stored_objects(storage_root)) == 1
    assert [entry["action"] for entry in await audit_entries(tenant["id"])] == ["file.uploaded"]


async def test_upload_and_delete_are_confirmed_on_the_next_page(factory, client_factory):
    tenant, admin, _, _ = await organisation_with_staff(factory)
    client = await client_factory(admin)
    await upload(client, tenant["slug"], "Marrëveshja me AKCESK.pdf", samples.pdf())
    page = await client.get(f"/t/{tenant['slug']}/files")
    assert "Dokumenti “Marrëveshja me AKCESK.pdf” u ngarkua." in page.text
    row = (await file_rows(tenant["id"]))[0]
    await client.post(f"/t/{tenant['slug']}/files/{row['id']}/delete", {"reason": "Gabim"})
    page = await client.get(f"/t/{tenant['slug']}/files")
    assert "Dokumenti “Marrëveshja me AKCESK.pdf” u fshi." in page.text
    assert "u ngarkua" not in page.text  # each confirmation is shown once


async def test_list_is_paginated_newest_first(factory, client_factory):
    from portal.files.services import store_file
    from tests.conftest import TEST_ACTOR

    tenant, admin, _, _ = await organisation_with_staff(factory)
    for number in range(1, 27):
        await store_file(tenant, data=samples.txt(), filename=f"procesverbal-{number:02d}.txt", actor=TEST_ACTOR)
    client = await client_factory(admin)

    first = await client.get(f"/t/{tenant['slug']}/files")
    names = re.findall(r"download>(procesverbal-\d\d\.txt)<", first.text)
    assert names[0] == "procesverbal-26.txt"
    assert len(names) == 25
    assert "procesverbal-01.txt" not in names
    assert "Faqja 1 nga 2 · 26 gjithsej" in first.text

    second = await client.get(f"/t/{tenant['slug']}/files?page=2")
    assert re.findall(r"download>(procesverbal-\d\d\.txt)<", second.text) == ["procesverbal-01.txt"]


async def test_text_the_user_typed_is_escaped(factory, client_factory):
    tenant, admin, _, _ = await organisation_with_staff(factory)
    client = await client_factory(admin)
    name, description = "<img src=x onerror=alert(1)>.pdf", "<script>alert('x')</script>"
    await upload(client, tenant["slug"], name, samples.pdf(), description)
    page = await client.get(f"/t/{tenant['slug']}/files")
    assert "<script>alert('x')</script>" not in page.text
    assert "&lt;script&gt;" in page.text
    assert "<img src=x" not in page.text


# --- access: allowed roles, too little role, another organisation -----------------------------

async def test_viewer_may_list_and_download_but_not_upload_or_delete(factory, client_factory, storage_root):
    tenant, admin, _, viewer = await organisation_with_staff(factory)
    await upload(await client_factory(admin), tenant["slug"], "a.pdf", samples.pdf())
    row = (await file_rows(tenant["id"]))[0]
    client = await client_factory(viewer)

    page = await client.get(f"/t/{tenant['slug']}/files")
    assert page.status_code == 200
    assert "a.pdf" in page.text
    assert 'enctype="multipart/form-data"' not in page.text  # no upload form offered
    assert "/delete" not in page.text
    assert (await client.get(f"/t/{tenant['slug']}/files/{row['id']}")).content == samples.pdf()

    refused = await upload(client, tenant["slug"], "b.pdf", samples.pdf())
    assert refused.status_code == 403
    assert "Roli juaj në këtë organizatë nuk e lejon këtë veprim." in refused.text
    assert len(await file_rows(tenant["id"])) == 1
    assert len(stored_objects(storage_root)) == 1

    assert (await client.get(f"/t/{tenant['slug']}/files/{row['id']}/delete")).status_code == 403
    refused_delete = await client.post(f"/t/{tenant['slug']}/files/{row['id']}/delete", {"reason": "s'më pëlqen"})
    assert refused_delete.status_code == 403
    assert (await file_rows(tenant["id"]))[0]["deleted_at"] is None


async def test_analyst_may_upload_but_not_delete(factory, client_factory):
    tenant = await factory.tenant("agency", name="Policia e Shtetit")
    analyst = await factory.member(tenant, "analyst")
    client = await client_factory(analyst)
    assert (await upload(client, tenant["slug"], "analiza.pdf", samples.pdf())).status_code == 303
    row = (await file_rows(tenant["id"]))[0]
    assert (await client.post(f"/t/{tenant['slug']}/files/{row['id']}/delete", {"reason": "x"})).status_code == 403


async def test_member_of_another_organisation_gets_404_on_every_files_route(factory, client_factory, storage_root):
    tenant, admin, _, _ = await organisation_with_staff(factory, name="ISP Alfa")
    await upload(await client_factory(admin), tenant["slug"], "kontrata-sekrete.pdf", samples.pdf(), "Vetëm për Alfa")
    row = (await file_rows(tenant["id"]))[0]
    other = await factory.tenant("isp", name="ISP Beta")
    outsider = await factory.member(other, "admin")
    client = await client_factory(outsider)
    base = f"/t/{tenant['slug']}/files"

    responses = [
        await client.get(base),
        await upload(client, tenant["slug"], "nderhyrje.pdf", samples.pdf()),
        await client.get(f"{base}/{row['id']}"),
        await client.get(f"{base}/{row['id']}/delete"),
        await client.post(f"{base}/{row['id']}/delete", {"reason": "sulm"}),
    ]
    for response in responses:
        assert response.status_code == 404, response.request.url
        assert "kontrata-sekrete" not in response.text
        assert "Vetëm për Alfa" not in response.text
    assert len(await file_rows()) == 1
    assert (await file_rows())[0]["deleted_at"] is None
    assert len(stored_objects(storage_root)) == 1
    assert [entry["action"] for entry in await audit_entries(tenant["id"])] == ["file.uploaded"]


async def test_another_organisations_file_id_under_your_own_address_is_404(factory, client_factory):
    tenant, admin, _, _ = await organisation_with_staff(factory)
    await upload(await client_factory(admin), tenant["slug"], "e-tyre.pdf", samples.pdf())
    theirs = (await file_rows(tenant["id"]))[0]
    mine = await factory.tenant("isp")
    my_admin = await factory.member(mine, "admin")
    client = await client_factory(my_admin)
    base = f"/t/{mine['slug']}/files"

    for response in (
        await client.get(f"{base}/{theirs['id']}"),
        await client.get(f"{base}/{theirs['id']}/delete"),
        await client.post(f"{base}/{theirs['id']}/delete", {"reason": "provë"}),
    ):
        assert response.status_code == 404
        assert "e-tyre.pdf" not in response.text
    assert (await file_rows(tenant["id"]))[0]["deleted_at"] is None
    assert await audit_entries(mine["id"]) == []


async def test_signed_out_visitor_is_sent_to_sign_in(factory, client):
    tenant = await factory.tenant()
    response = await client.get(f"/t/{tenant['slug']}/files")
    assert response.status_code in (302, 303)
    assert response.headers["location"].startswith("/login?next=")


# --- bad input ----------------------------------------------------------------------------------

@pytest.mark.parametrize(
    ("name", "make"),
    [
        ("fatura.pdf", samples.exe),
        ("raport.docx", samples.zip_archive),
        ("faqe.html", samples.html),
        ("program.exe", samples.exe),
    ],
)
async def test_disguised_or_forbidden_upload_is_refused_next_to_the_field(
    factory, client_factory, storage_root, name, make
):
    tenant, admin, _, _ = await organisation_with_staff(factory)
    client = await client_factory(admin)
    response = await upload(client, tenant["slug"], name, make(), "Fatura e nëntorit")
    assert response.status_code == 422
    assert file_error(response.text) == DISGUISED_MESSAGE
    assert ">Fatura e nëntorit</textarea>" in response.text  # the description is kept
    assert await file_rows() == []
    assert stored_objects(storage_root) == []
    assert await audit_entries(tenant["id"]) == []


async def test_oversized_upload_is_refused_with_the_limit(factory, client_factory, storage_root):
    tenant, admin, _, _ = await organisation_with_staff(factory)
    client = await client_factory(admin)
    limit = get_settings().max_upload_bytes
    data = samples.pdf() + b"%" * (limit + 1 - len(samples.pdf()))
    response = await upload(client, tenant["slug"], "shume-i-madh.pdf", data, "Skanim i plotë")
    assert response.status_code == 422
    assert file_error(response.text) == "Skedari është 20 MB; kufiri është 20 MB."
    assert ">Skanim i plotë</textarea>" in response.text
    assert await file_rows() == []
    assert stored_objects(storage_root) == []


async def test_request_far_beyond_the_limit_is_cut_off_with_413(factory, client_factory, storage_root):
    tenant, admin, _, _ = await organisation_with_staff(factory)
    client = await client_factory(admin)
    data = samples.pdf() + b"%" * (get_settings().max_upload_bytes + 2 * 1024 * 1024)
    response = await upload(client, tenant["slug"], "skanim.pdf", data)
    assert response.status_code == 413
    assert "Skedari është më i madh se sa pranon portali." in response.text
    assert await file_rows() == []
    assert stored_objects(storage_root) == []


async def test_form_without_a_file_asks_for_one(factory, client_factory, storage_root):
    tenant, admin, _, _ = await organisation_with_staff(factory)
    client = await client_factory(admin)
    response = await client.post(f"/t/{tenant['slug']}/files", {"description": "pa skedar"})
    assert response.status_code == 422
    assert file_error(response.text) == "Zgjidhni një skedar për ta ngarkuar."
    assert await file_rows() == []


async def test_upload_without_csrf_token_is_refused(factory, client_factory, storage_root):
    tenant, admin, _, _ = await organisation_with_staff(factory)
    client = await client_factory(admin)
    response = await client.http.post(
        f"/t/{tenant['slug']}/files",
        data={"description": "x"},
        files={"file": ("a.pdf", samples.pdf(), "application/pdf")},
    )
    assert response.status_code == 403
    assert await file_rows() == []
    assert stored_objects(storage_root) == []


async def test_non_numeric_file_id_is_not_found(factory, client_factory):
    tenant, admin, _, _ = await organisation_with_staff(factory)
    client = await client_factory(admin)
    assert (await client.get(f"/t/{tenant['slug']}/files/../../etc/passwd")).status_code == 404
    assert (await client.get(f"/t/{tenant['slug']}/files/abc")).status_code == 404


# --- S3 -------------------------------------------------------------------------------------------

@pytest.mark.s3
async def test_documents_are_stored_in_and_served_from_s3(factory, client_factory, s3_server):
    bucket = s3_server.new_bucket()
    with portal_storage_on(s3_server, bucket, prefix="portal"):
        tenant, admin, _, _ = await organisation_with_staff(factory)
        client = await client_factory(admin)
        data = samples.png()
        assert (await upload(client, tenant["slug"], "pamje.png", data, "Pamje ekrani")).status_code == 303
        row = (await file_rows(tenant["id"]))[0]

        stored = s3_server.client().get_object(Bucket=bucket, Key=f"portal/{row['storage_key']}")
        assert stored["Body"].read() == data
        assert stored["ContentType"] == "image/png"

        download = await client.get(f"/t/{tenant['slug']}/files/{row['id']}")
        assert download.status_code == 200
        assert download.content == data
        assert download.headers["content-type"] == "image/png"

        refused = await upload(client, tenant["slug"], "pamje.pdf", samples.exe())
        assert refused.status_code == 422
        listed = s3_server.client().list_objects_v2(Bucket=bucket).get("Contents", [])
        assert [item["Key"] for item in listed] == [f"portal/{row['storage_key']}"]

        deleted = await client.post(f"/t/{tenant['slug']}/files/{row['id']}/delete", {"reason": "Nuk nevojitet më"})
        assert deleted.status_code == 303
        assert s3_server.client().list_objects_v2(Bucket=bucket).get("KeyCount", 0) == 0
