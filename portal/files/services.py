"""Rules for an organisation's documents: the only code that writes ``stored_file`` rows or their bytes.

Consistency between the database row and the stored bytes:

* Upload: the bytes go to storage first, then the row and its audit entry are written in one
  transaction. If that transaction fails, the object is deleted again, so no row ever references
  missing bytes and no object is left without a row.
* Delete: the row is only marked deleted (``deleted_at``) and the reason is audited, so the log
  keeps pointing at a readable record (name, size, SHA-256, who uploaded it). The bytes are
  removed from storage after that transaction commits: a deleted document often holds personal
  data about children or staff, and keeping copies nobody can reach through the portal would be
  retention without a purpose. Deleting only after the commit means a failed delete leaves the
  document fully intact; if storage refuses the delete, the row (deleted, with its
  ``storage_key``) still names the object for a later clean-up, and the failure is logged.
"""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import UTC, datetime

from babel.numbers import format_decimal

from portal.audit import services as audit
from portal.core import storage
from portal.core.actor import Actor
from portal.core.db import get_engine, tenant_transaction
from portal.core.errors import NotFound, PortalError, ValidationFailed
from portal.core.i18n import _, current_language, lazy, ngettext
from portal.core.pagination import Pager
from portal.files.tables import StoredFile

log = logging.getLogger(__name__)

DOCUMENT = "document"
DESCRIPTION_MAX = 1000
REASON_MAX = 500

TYPE_LABELS = {
    "application/pdf": "PDF",
    "image/png": "PNG",
    "image/jpeg": "JPEG",
    "application/vnd.openxmlformats-officedocument.wordprocessingml.document": "Word (DOCX)",
    "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet": "Excel (XLSX)",
    "application/vnd.oasis.opendocument.text": "OpenDocument (ODT)",
    "text/csv": "CSV",
    "text/plain": lazy("Text"),
}


class StorageUnavailable(PortalError):
    """The storage backend did not answer: nothing was changed, the person can try again."""

    status_code = 503
    title = "Storage unavailable"


def type_label(content_type: str) -> str:
    label = TYPE_LABELS.get(content_type)
    return _(label) if label else content_type


def size_label(size_bytes: int) -> str:
    """A file size as people read it, with the decimal separator of the page's language."""
    language = current_language.get()
    if size_bytes < 1024:
        return ngettext("%(num)s byte", "%(num)s bytes", size_bytes)
    for unit, factor in (("KB", 1024), ("MB", 1024**2), ("GB", 1024**3)):
        if size_bytes < factor * 1024 or unit == "GB":
            number = format_decimal(round(size_bytes / factor, 1), format="#,##0.#", locale=language)
            return f"{number} {unit}"
    raise AssertionError("unreachable")


@dataclass(frozen=True)
class DocumentPage:
    rows: list[dict]
    pager: Pager


def _visible(tenant: dict, purpose: str):
    return (StoredFile.tenant == tenant["id"]) & (StoredFile.purpose == purpose) & StoredFile.deleted_at.is_null()


async def list_documents(tenant: dict, *, page: str | int | None = 1, per_page: int = 25) -> DocumentPage:
    """The organisation's documents, newest first, with the uploader's name."""
    async with tenant_transaction(tenant["id"]):
        total = await StoredFile.count().where(_visible(tenant, DOCUMENT))
        pager = Pager.from_query(page, total, per_page=per_page)
        rows = (
            await StoredFile.select(
                StoredFile.id,
                StoredFile.filename,
                StoredFile.content_type,
                StoredFile.size_bytes,
                StoredFile.description,
                StoredFile.created_at,
                StoredFile.uploaded_by.full_name.as_alias("uploader_name"),
                StoredFile.uploaded_by.email.as_alias("uploader_email"),
            )
            .where(_visible(tenant, DOCUMENT))
            .order_by(StoredFile.created_at, ascending=False)
            .order_by(StoredFile.id, ascending=False)
            .limit(pager.per_page)
            .offset(pager.offset)
        )
    return DocumentPage(rows=rows, pager=pager)


async def get_document(tenant: dict, file_id: int, purpose: str = DOCUMENT) -> dict:
    """One live file of this organisation; another organisation's id is simply not found."""
    async with tenant_transaction(tenant["id"]):
        row = await StoredFile.select(
            *StoredFile.all_columns(),
            StoredFile.uploaded_by.full_name.as_alias("uploader_name"),
            StoredFile.uploaded_by.email.as_alias("uploader_email"),
        ).where(_visible(tenant, purpose) & (StoredFile.id == file_id)).first()
    if row is None:
        raise NotFound(_("This document does not exist or has been deleted."))
    return row


@asynccontextmanager
async def object_removed_on_failure(key: str) -> AsyncIterator[None]:
    """Delete the stored object again if the block (the row's transaction) fails.

    Usage: put the bytes, then write the row inside this block with its own transaction, so the
    commit happens before the block ends and a failed commit is caught here too.
    """
    try:
        yield
    except BaseException:
        try:
            await storage.get_storage().delete(key)
        except Exception:  # the original failure matters more; log the leftover for clean-up
            log.exception("could not remove stored object %s after a failed write", key)
        raise


async def store_file(
    tenant: dict, *, data: bytes, filename: str, actor: Actor, description: str = "", purpose: str = DOCUMENT,
) -> dict:
    """Check an upload by its content, store the bytes, then record the row and the audit entry.

    Must not be called inside an open transaction: the row has to be committed before the
    object's clean-up guard ends (otherwise an outer rollback would leave the object behind).
    """
    if get_engine().current_transaction.get() is not None:
        raise RuntimeError("store_file must run outside any transaction so a failed commit can remove the object")
    description = (description or "").strip()
    errors: dict[str, str] = {}
    checked = None
    try:
        checked = storage.check_upload(data, filename)
    except ValidationFailed as exc:
        errors.update(exc.errors)
    if len(description) > DESCRIPTION_MAX:
        errors["description"] = _("Keep the description under %(max)s characters.", max=DESCRIPTION_MAX)
    if errors or checked is None:
        raise ValidationFailed(errors)

    key = storage.new_storage_key(tenant["id"], purpose + "s")
    try:
        await storage.get_storage().put(key, checked.data, checked.content_type)
    except Exception as exc:
        log.exception("storage refused an upload for tenant %s", tenant["id"])
        await _remove_partial_object(key)
        raise StorageUnavailable(
            _("The document could not be stored right now. Nothing was saved; try again in a moment.")
        ) from exc

    async with object_removed_on_failure(key):
        async with tenant_transaction(tenant["id"]):
            rows = await StoredFile.insert(
                StoredFile(
                    tenant=tenant["id"],
                    storage_key=key,
                    filename=checked.filename,
                    content_type=checked.content_type,
                    size_bytes=checked.size,
                    sha256=checked.sha256,
                    purpose=purpose,
                    description=description,
                    uploaded_by=actor.user_id,
                )
            ).returning(*StoredFile.all_columns())
            row = rows[0]
            await audit.record(
                "file.uploaded", actor=actor, tenant_id=tenant["id"], object_type="stored_file", object_id=row["id"],
                detail={
                    "filename": checked.filename, "content_type": checked.content_type, "size_bytes": checked.size,
                    "sha256": checked.sha256, "purpose": purpose,
                },
            )
    return row


async def _remove_partial_object(key: str) -> None:
    try:
        await storage.get_storage().delete(key)
    except Exception:  # storage is already failing; the put may not have created anything
        log.warning("could not check for a partial object %s after a failed upload", key)


def _is_missing_object(exc: BaseException) -> bool:
    if isinstance(exc, FileNotFoundError):
        return True
    response = getattr(exc, "response", None)
    if isinstance(response, dict):
        code = str(response.get("Error", {}).get("Code", ""))
        return code in {"NoSuchKey", "404", "NotFound"}
    return False


async def open_document(tenant: dict, file_id: int, actor: Actor) -> tuple[dict, AsyncIterator[bytes]]:
    """The file's row and a stream of its bytes; the download is audited once storage has answered.

    The first chunk is read before returning, so a missing object or an unreachable storage
    becomes a proper error page instead of a download that breaks off after its headers.
    """
    row = await get_document(tenant, file_id)
    chunks = storage.get_storage().open(row["storage_key"])
    try:
        first = await anext(chunks, b"")
    except Exception as exc:
        await chunks.aclose()
        if _is_missing_object(exc):
            log.error("stored object %s of file %s is missing", row["storage_key"], row["id"])
            raise NotFound(
                _("The contents of this document could not be found in storage. Tell the platform administrator.")
            ) from exc
        log.exception("storage failed while opening file %s", row["id"])
        raise StorageUnavailable(_("The document cannot be read right now. Try again in a moment.")) from exc

    try:
        async with tenant_transaction(tenant["id"]):
            await audit.record(
                "file.downloaded", actor=actor, tenant_id=tenant["id"], object_type="stored_file", object_id=row["id"],
                detail={"filename": row["filename"], "sha256": row["sha256"]},
            )
    except BaseException:
        await chunks.aclose()
        raise

    async def stream() -> AsyncIterator[bytes]:
        try:
            if first:
                yield first
            async for chunk in chunks:
                yield chunk
        finally:
            await chunks.aclose()

    return row, stream()


async def delete_document(tenant: dict, file_id: int, *, reason: str, actor: Actor) -> dict:
    """Mark the document deleted with the reason (audited), then remove its bytes from storage."""
    reason = (reason or "").strip()
    if not reason:
        raise ValidationFailed({"reason": _("Give the reason for deleting this document.")})
    if len(reason) > REASON_MAX:
        raise ValidationFailed({"reason": _("Keep the reason under %(max)s characters.", max=REASON_MAX)})
    async with tenant_transaction(tenant["id"]):
        row = await get_document(tenant, file_id)
        deleted_at = datetime.now(UTC)
        updated = await StoredFile.update({StoredFile.deleted_at: deleted_at}).where(
            _visible(tenant, DOCUMENT) & (StoredFile.id == file_id)
        ).returning(StoredFile.id)
        if not updated:  # deleted by someone else between the read and the update
            raise NotFound(_("This document does not exist or has been deleted."))
        await audit.record(
            "file.deleted", actor=actor, tenant_id=tenant["id"], object_type="stored_file", object_id=row["id"],
            detail={"filename": row["filename"], "sha256": row["sha256"], "reason": reason},
        )
    try:
        await storage.get_storage().delete(row["storage_key"])
    except Exception:
        log.exception(
            "document %s is deleted but its stored object %s could not be removed", row["id"], row["storage_key"]
        )
    return row | {"deleted_at": deleted_at}
