"""Evidence files and signed PDFs: checked, stored through the storage interface, streamed back.

The bytes go to storage before the database transaction opens (a slow upload must not hold
row locks); if the transaction then fails, the stored object is removed again so no orphan stays.
Metadata rows live in the shared ``stored_file`` table with purposes of their own.
"""

from __future__ import annotations

import contextlib
import logging
from collections.abc import AsyncIterator
from dataclasses import dataclass
from urllib.parse import quote

from litestar.response import Stream

from portal.core.actor import Actor
from portal.core.errors import ValidationFailed
from portal.core.i18n import _
from portal.core.storage import CheckedUpload, check_upload, get_storage, new_storage_key
from portal.core.settings import get_settings
from portal.files.tables import StoredFile

log = logging.getLogger(__name__)

PURPOSE_EVIDENCE = "coc_evidence"
PURPOSE_SIGNED_PDF = "coc_signed_pdf"
MAX_EVIDENCE_FILES = 10


@dataclass(frozen=True)
class Upload:
    """A file as the browser sent it, before any check."""

    filename: str
    data: bytes


def evidence_limit() -> int:
    return get_settings().max_upload_bytes


def check_evidence(uploads: list[Upload], field: str = "evidence") -> list[CheckedUpload]:
    """Every non-empty upload checked by size and content; the first problem is reported for the field."""
    present = [u for u in uploads if u.data or u.filename]
    if len(present) > MAX_EVIDENCE_FILES:
        raise ValidationFailed({field: _("Attach at most %(count)s files at a time.", count=MAX_EVIDENCE_FILES)})
    checked = []
    for upload in present:
        try:
            checked.append(check_upload(upload.data, upload.filename, max_bytes=evidence_limit(), field=field))
        except ValidationFailed as exc:
            message = exc.errors.get(field, exc.message)
            if upload.filename:
                message = f"{upload.filename}: {message}"
            raise ValidationFailed({field: message}) from exc
    return checked


def check_signed_pdf(upload: Upload | None, field: str = "signed_pdf") -> CheckedUpload | None:
    if upload is None or (not upload.data and not upload.filename):
        return None
    checked = check_upload(upload.data, upload.filename, max_bytes=evidence_limit(), field=field)
    if checked.content_type != "application/pdf":
        raise ValidationFailed({field: _("The signed copy must be a PDF file.")})
    return checked


class StagedFiles:
    """Bytes already in storage, waiting for the transaction that records them."""

    def __init__(self, tenant_id: int, purpose: str, files: list[CheckedUpload]) -> None:
        self.tenant_id = tenant_id
        self.purpose = purpose
        self.files = files
        self.keys: list[str] = []

    async def put(self) -> None:
        storage = get_storage()
        for checked in self.files:
            key = new_storage_key(self.tenant_id, self.purpose)
            await storage.put(key, checked.data, checked.content_type)
            self.keys.append(key)

    async def discard(self) -> None:
        storage = get_storage()
        for key in self.keys:
            try:
                await storage.delete(key)
            except Exception:  # the original error matters more than a failed clean-up
                log.exception("could not remove %s after a failed transaction", key)

    async def record(self, actor: Actor) -> list[dict]:
        """Insert the metadata rows; call inside the caller's tenant transaction."""
        rows = []
        for key, checked in zip(self.keys, self.files, strict=True):
            inserted = await StoredFile.insert(
                StoredFile(
                    tenant=self.tenant_id, storage_key=key, filename=checked.filename,
                    content_type=checked.content_type, size_bytes=checked.size, sha256=checked.sha256,
                    purpose=self.purpose, uploaded_by=actor.user_id,
                )
            ).returning(StoredFile.id, StoredFile.filename, StoredFile.size_bytes, StoredFile.sha256)
            rows.append(inserted[0])
        return rows


@contextlib.asynccontextmanager
async def staged(tenant_id: int, purpose: str, files: list[CheckedUpload]) -> AsyncIterator[StagedFiles]:
    """Put the files in storage; remove them again if the block that records them fails."""
    stage = StagedFiles(tenant_id, purpose, files)
    try:
        await stage.put()
        yield stage
    except BaseException:
        await stage.discard()
        raise


def download_response(file_row: dict) -> Stream:
    """Stream a stored file as an attachment; the browser is told not to guess another type."""
    filename = file_row["filename"] or "file"
    ascii_name = filename.encode("ascii", "ignore").decode() or "file"
    ascii_name = ascii_name.replace('"', "").replace("\\", "")
    disposition = f"attachment; filename=\"{ascii_name}\"; filename*=UTF-8''{quote(filename)}"
    return Stream(
        content=get_storage().open(file_row["storage_key"]),
        media_type=file_row["content_type"],
        headers={
            "Content-Disposition": disposition,
            "X-Content-Type-Options": "nosniff",
            "Cache-Control": "private, no-store",
            # never run as a page, even if a browser ignored the attachment disposition
            "Content-Security-Policy": "sandbox",
            "Content-Length": str(file_row["size_bytes"]),
        },
    )
