"""Storage backends (local folder and S3 against a real SeaweedFS server) and the upload checks."""

from __future__ import annotations

import hashlib
import os

import pytest
from botocore.exceptions import ClientError, EndpointConnectionError

from portal.core.errors import ValidationFailed
from portal.core.storage import CHUNK_SIZE, LocalStorage, S3Storage, check_upload, detect_content_type, new_storage_key
from tests.files import samples
from tests.s3server import S3Server, portal_storage_on

DOCX = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"
REFUSED_MESSAGE = "Ky lloj skedari nuk pranohet. Ngarkoni një skedar PDF, PNG, JPEG, DOCX, XLSX, ODT, CSV ose TXT."


async def read_all(storage, key: str) -> tuple[bytes, int]:
    """The object's bytes and how many chunks they came in."""
    chunks = [chunk async for chunk in storage.open(key)]
    return b"".join(chunks), len(chunks)


# --- upload checks ---------------------------------------------------------------------------

@pytest.mark.parametrize(
    ("filename", "make", "expected"),
    [
        ("marreveshja.pdf", samples.pdf, "application/pdf"),
        ("foto.png", samples.png, "image/png"),
        ("foto.jpg", samples.jpeg, "image/jpeg"),
        ("raport.docx", samples.docx, DOCX),
        ("lista.csv", samples.csv, "text/csv"),
        ("shenime.txt", samples.txt, "text/plain"),
        # the content decides, not the name: a real PDF called .txt is a PDF
        ("shenime.txt", samples.pdf, "application/pdf"),
    ],
)
def test_accepted_content_is_recognised_by_its_bytes(filename, make, expected):
    data = make()
    checked = check_upload(data, filename)
    assert checked.content_type == expected
    assert checked.size == len(data)
    assert checked.sha256 == hashlib.sha256(data).hexdigest()


@pytest.mark.parametrize(
    ("filename", "make"),
    [
        ("program.exe", samples.exe),
        ("raport.pdf", samples.exe),  # an executable renamed to look like a PDF
        ("arkiv.zip", samples.zip_archive),
        ("raport.docx", samples.zip_archive),  # a plain zip renamed .docx
        ("faqe.html", samples.html),
        ("raport.pdf", samples.txt),  # text named .pdf is not a PDF
        ("lista.csv", lambda: b"\x00\x01\x02binary\x00" * 10),  # binary named .csv
        ("pa-prapashtese", samples.txt),  # text without a text extension
    ],
)
def test_refused_or_disguised_content_gets_an_albanian_error(filename, make):
    with pytest.raises(ValidationFailed) as caught:
        check_upload(make(), filename)
    assert caught.value.errors == {"file": REFUSED_MESSAGE}
    assert detect_content_type(make(), filename) is None


def test_size_limit_is_inclusive_and_reported_in_megabytes():
    limit = 1024 * 1024
    at_limit = samples.pdf() + b"%" * (limit - len(samples.pdf()))
    assert check_upload(at_limit, "a.pdf", max_bytes=limit).size == limit
    with pytest.raises(ValidationFailed) as caught:
        check_upload(at_limit + b"%", "a.pdf", max_bytes=limit)
    assert caught.value.errors["file"] == "Skedari është 1 MB; kufiri është 1 MB."


def test_empty_upload_asks_for_a_file():
    with pytest.raises(ValidationFailed) as caught:
        check_upload(b"", "bosh.pdf")
    assert caught.value.errors == {"file": "Zgjidhni një skedar për ta ngarkuar."}


def test_uploaded_names_lose_their_folders_and_unsafe_characters():
    checked = check_upload(samples.pdf(), '..\\..\\C:\\tmp/../"raport<1>".pdf')
    assert checked.filename == "raport1.pdf"


# --- local folder backend ----------------------------------------------------------------------

async def test_local_storage_round_trip_streams_in_chunks(tmp_path):
    storage = LocalStorage(tmp_path / "files")
    await storage.check()
    key = new_storage_key(7, "documents")
    data = os.urandom(CHUNK_SIZE * 2 + 123)
    await storage.put(key, data, "application/pdf")
    assert (tmp_path / "files" / key).read_bytes() == data
    content, chunk_count = await read_all(storage, key)
    assert content == data
    assert chunk_count == 3
    await storage.delete(key)
    assert not (tmp_path / "files" / key).exists()
    with pytest.raises(FileNotFoundError):
        await read_all(storage, key)
    await storage.delete(key)  # deleting twice is not an error


@pytest.mark.parametrize("key", ["../outside", "tenants/1/../../../outside", "/etc/passwd"])
async def test_local_storage_refuses_keys_that_escape_its_folder(tmp_path, key):
    storage = LocalStorage(tmp_path / "files")
    with pytest.raises(ValueError, match="escapes the storage folder"):
        await storage.put(key, b"x", "text/plain")
    with pytest.raises(ValueError, match="escapes the storage folder"):
        await read_all(storage, key)
    with pytest.raises(ValueError, match="escapes the storage folder"):
        await storage.delete(key)
    assert not (tmp_path / "outside").exists()


async def test_local_storage_check_fails_when_the_folder_cannot_exist(tmp_path):
    blocker = tmp_path / "not-a-folder"
    blocker.write_text("a file where the storage folder should be")
    with pytest.raises(OSError):
        await LocalStorage(blocker / "files").check()


# --- S3 backend against SeaweedFS ----------------------------------------------------------------

def object_keys(server: S3Server, bucket: str) -> list[str]:
    return [item["Key"] for item in server.client().list_objects_v2(Bucket=bucket).get("Contents", [])]


@pytest.mark.s3
async def test_s3_storage_round_trip_through_the_portal_configuration(s3_server):
    bucket = s3_server.new_bucket()
    with portal_storage_on(s3_server, bucket, prefix="portal") as storage:
        assert isinstance(storage, S3Storage)
        await storage.check()
        key = new_storage_key(7, "documents")
        data = os.urandom(CHUNK_SIZE * 2 + 500)
        await storage.put(key, data, "application/pdf")

        stored = s3_server.client().get_object(Bucket=bucket, Key=f"portal/{key}")
        assert stored["ContentType"] == "application/pdf"
        assert stored["Body"].read() == data

        content, chunk_count = await read_all(storage, key)
        assert content == data
        assert chunk_count >= 2

        await storage.delete(key)
        assert object_keys(s3_server, bucket) == []
        with pytest.raises(ClientError) as caught:
            await read_all(storage, key)
        assert caught.value.response["Error"]["Code"] == "NoSuchKey"


@pytest.mark.s3
async def test_s3_storage_refuses_keys_that_escape_its_prefix(s3_server):
    bucket = s3_server.new_bucket()
    with portal_storage_on(s3_server, bucket, prefix="portal") as storage:
        for key in ("../escaped", "tenants/1/../../../escaped", "tenants//x"):
            with pytest.raises(ValueError):
                await storage.put(key, b"x", "text/plain")
            with pytest.raises(ValueError):
                await read_all(storage, key)
    assert object_keys(s3_server, bucket) == []


@pytest.mark.s3
async def test_s3_server_refuses_a_wrong_secret_key(s3_server):
    bucket = s3_server.new_bucket()
    with portal_storage_on(s3_server, bucket, secret_key="not-the-secret-" + "x" * 20) as storage:
        with pytest.raises(ClientError) as caught:
            await storage.put("tenants/1/documents/forged", b"forged", "text/plain")
        assert caught.value.response["Error"]["Code"] == "SignatureDoesNotMatch"
        with pytest.raises(ClientError):
            await storage.check()
    assert object_keys(s3_server, bucket) == []


@pytest.mark.s3
async def test_s3_check_fails_for_a_missing_bucket_and_ensure_bucket_creates_it(s3_server):
    with portal_storage_on(s3_server, "portal-missing-" + os.urandom(4).hex()) as storage:
        with pytest.raises(ClientError):
            await storage.check()
        storage.ensure_bucket()
        storage.ensure_bucket()  # a second call finds it and does nothing
        await storage.check()


async def test_s3_check_fails_when_nothing_answers_at_the_endpoint(unused_tcp_port):
    down = S3Server(endpoint_url=f"http://127.0.0.1:{unused_tcp_port}", access_key="a", secret_key="b")
    with portal_storage_on(down, "portal-anything") as storage:
        with pytest.raises(EndpointConnectionError):
            await storage.check()


# --- readiness reports the storage backend ---------------------------------------------------------

@pytest.mark.s3
async def test_readyz_is_ready_when_the_s3_bucket_answers(client, s3_server):
    with portal_storage_on(s3_server, s3_server.new_bucket()):
        response = await client.get("/readyz")
    assert response.status_code == 200
    assert response.json() == {"status": "ok", "checks": {"database": "ok", "storage": "ok"}}


async def test_readyz_is_unavailable_when_s3_is_down(client, unused_tcp_port):
    down = S3Server(endpoint_url=f"http://127.0.0.1:{unused_tcp_port}", access_key="a", secret_key="b")
    with portal_storage_on(down, "portal-documents"):
        response = await client.get("/readyz")
    assert response.status_code == 503
    body = response.json()
    assert body["status"] == "unavailable"
    assert body["checks"]["database"] == "ok"
    assert body["checks"]["storage"] == "error: EndpointConnectionError"


@pytest.mark.s3
async def test_readyz_is_unavailable_when_the_bucket_is_missing_or_the_secret_wrong(client, s3_server):
    with portal_storage_on(s3_server, "portal-never-created"):
        assert (await client.get("/readyz")).status_code == 503
    with portal_storage_on(s3_server, s3_server.new_bucket(), secret_key="wrong-secret-" + "y" * 20):
        response = await client.get("/readyz")
    assert response.status_code == 503
    assert response.json()["checks"]["storage"] == "error: ClientError"
