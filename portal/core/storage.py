"""File storage behind one interface: a local folder (embedded) or S3 through boto3 (production).

Uploads are checked before they are stored: a size limit, and a content-type allow-list decided
by the bytes themselves (magic numbers), never by the file name or the browser's claim.
"""

from __future__ import annotations

import asyncio
import hashlib
import os
import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Protocol
from urllib.parse import urlparse

import filetype
from babel.numbers import format_decimal

from portal.core.errors import ValidationFailed
from portal.core import i18n
from portal.core.i18n import _
from portal.core.settings import Settings, get_settings

CHUNK_SIZE = 256 * 1024

# content type -> extension used when the stored name needs one
ALLOWED_BINARY_TYPES = {
    "application/pdf": "pdf",
    "image/png": "png",
    "image/jpeg": "jpg",
    "application/vnd.openxmlformats-officedocument.wordprocessingml.document": "docx",
    "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet": "xlsx",
    "application/vnd.oasis.opendocument.text": "odt",
}
TEXT_EXTENSIONS = {".csv": "text/csv", ".txt": "text/plain"}


@dataclass(frozen=True)
class CheckedUpload:
    data: bytes
    filename: str
    content_type: str
    sha256: str

    @property
    def size(self) -> int:
        return len(self.data)


def clean_filename(name: str) -> str:
    """Keep the visible name readable but safe for headers and folders."""
    base = os.path.basename((name or "").replace("\\", "/")).strip()
    base = "".join(ch for ch in base if ch.isprintable() and ch not in '"<>:|?*\r\n')
    return base[:200] or "file"


def detect_content_type(data: bytes, filename: str) -> str | None:
    """The allowed content type the bytes really are, or None if they are not one we accept."""
    kind = filetype.guess(data[:8192])
    if kind is not None:
        return kind.mime if kind.mime in ALLOWED_BINARY_TYPES else None
    suffix = Path(filename).suffix.lower()
    if suffix in TEXT_EXTENSIONS:
        sample = data[:65536]
        if b"\x00" in sample:
            return None
        try:
            sample.decode("utf-8")
        except UnicodeDecodeError as exc:
            # a multi-byte character cut at the sample's end is still text
            if exc.start < len(sample) - 4:
                return None
        return TEXT_EXTENSIONS[suffix]
    return None


def check_upload(data: bytes, filename: str, max_bytes: int | None = None, field: str = "file") -> CheckedUpload:
    limit = max_bytes if max_bytes is not None else get_settings().max_upload_bytes
    if not data:
        raise ValidationFailed({field: _("Choose a file to upload.")})
    if len(data) > limit:
        raise ValidationFailed(
            {
                field: _(
                    "The file is %(size)s MB; the limit is %(limit)s MB.",
                    size=format_decimal(round(len(data) / 1048576, 1), locale=i18n.current_language.get()),
                    limit=format_decimal(round(limit / 1048576, 1), locale=i18n.current_language.get()),
                )
            }
        )
    content_type = detect_content_type(data, filename)
    if content_type is None:
        raise ValidationFailed(
            {field: _("This kind of file is not accepted. Upload a PDF, PNG, JPEG, DOCX, XLSX, ODT, CSV or TXT file.")}
        )
    return CheckedUpload(data=data, filename=clean_filename(filename), content_type=content_type, sha256=hashlib.sha256(data).hexdigest())


def new_storage_key(tenant_id: int, purpose: str) -> str:
    return f"tenants/{tenant_id}/{purpose}/{uuid.uuid4().hex}"


class Storage(Protocol):
    async def put(self, key: str, data: bytes, content_type: str) -> None: ...

    def open(self, key: str) -> AsyncIterator[bytes]: ...

    async def delete(self, key: str) -> None: ...

    async def check(self) -> None: ...


class LocalStorage:
    """Files in a folder; keys map to paths and may not escape it."""

    def __init__(self, root: Path) -> None:
        self.root = root.resolve()

    def _path(self, key: str) -> Path:
        path = (self.root / key).resolve()
        if not path.is_relative_to(self.root):
            raise ValueError(f"storage key escapes the storage folder: {key!r}")
        return path

    async def put(self, key: str, data: bytes, content_type: str) -> None:
        path = self._path(key)

        def write() -> None:
            path.parent.mkdir(parents=True, exist_ok=True)
            temporary = path.with_suffix(".part")
            temporary.write_bytes(data)
            temporary.replace(path)

        await asyncio.to_thread(write)

    async def open(self, key: str) -> AsyncIterator[bytes]:
        handle = await asyncio.to_thread(self._path(key).open, "rb")
        try:
            while chunk := await asyncio.to_thread(handle.read, CHUNK_SIZE):
                yield chunk
        finally:
            handle.close()

    async def delete(self, key: str) -> None:
        await asyncio.to_thread(self._path(key).unlink, True)

    async def check(self) -> None:
        def probe() -> None:
            self.root.mkdir(parents=True, exist_ok=True)
            if not os.access(self.root, os.W_OK):
                raise PermissionError(f"{self.root} is not writable")

        await asyncio.to_thread(probe)


class S3Storage:
    """An S3 bucket (AWS, MinIO, SeaweedFS); boto3 is blocking, so calls run in threads."""

    def __init__(self, bucket: str, prefix: str, endpoint_url: str | None, region: str) -> None:
        import boto3
        from botocore.config import Config

        self.bucket = bucket
        self.prefix = prefix.strip("/")
        # Its own session, so credentials are read when the backend is built, not cached process-wide.
        self.client = boto3.session.Session().client(
            "s3",
            endpoint_url=endpoint_url or None,
            region_name=region,
            config=Config(signature_version="s3v4", s3={"addressing_style": "path"}, retries={"max_attempts": 3}),
        )

    def _key(self, key: str) -> str:
        # The same rule as the local folder: no key may climb out of the portal's prefix.
        if any(part in {"", ".", ".."} for part in key.split("/")):
            raise ValueError(f"storage key escapes the storage prefix: {key!r}")
        return f"{self.prefix}/{key}" if self.prefix else key

    async def put(self, key: str, data: bytes, content_type: str) -> None:
        await asyncio.to_thread(
            self.client.put_object, Bucket=self.bucket, Key=self._key(key), Body=data, ContentType=content_type
        )

    async def open(self, key: str) -> AsyncIterator[bytes]:
        response = await asyncio.to_thread(self.client.get_object, Bucket=self.bucket, Key=self._key(key))
        body = response["Body"]
        try:
            while chunk := await asyncio.to_thread(body.read, CHUNK_SIZE):
                yield chunk
        finally:
            body.close()

    async def delete(self, key: str) -> None:
        await asyncio.to_thread(self.client.delete_object, Bucket=self.bucket, Key=self._key(key))

    async def check(self) -> None:
        await asyncio.to_thread(self.client.head_bucket, Bucket=self.bucket)

    def ensure_bucket(self) -> None:
        """Create the bucket if it is missing (used by `portal migrate` and the tests)."""
        from botocore.exceptions import ClientError

        try:
            self.client.head_bucket(Bucket=self.bucket)
        except ClientError:
            self.client.create_bucket(Bucket=self.bucket)


def build_storage(settings: Settings) -> LocalStorage | S3Storage:
    parsed = urlparse(settings.storage_url)
    if parsed.scheme == "s3":
        return S3Storage(parsed.netloc, parsed.path, settings.s3_endpoint_url, settings.s3_region)
    return LocalStorage(Path(parsed.path))


@lru_cache(maxsize=1)
def get_storage() -> LocalStorage | S3Storage:
    return build_storage(get_settings())
