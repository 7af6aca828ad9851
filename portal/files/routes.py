"""The Documents pages of one organisation: list and upload, download through the portal, delete with a reason."""

from __future__ import annotations

import unicodedata
from urllib.parse import quote

from litestar import Request, Response, Router, get, post
from litestar.datastructures import UploadFile
from litestar.di import Provide
from litestar.response import Stream

from portal.core.errors import ValidationFailed
from portal.core.i18n import _
from portal.core.permissions import can
from portal.core.settings import get_settings
from portal.core.web import TenantContext, flash, form_data, page, provide_tenant_context, redirect
from portal.files import services


def attachment_disposition(filename: str) -> str:
    """``Content-Disposition`` that keeps Albanian letters (RFC 6266 ``filename*``) with an ASCII fallback."""
    fallback = unicodedata.normalize("NFKD", filename).encode("ascii", "ignore").decode("ascii")
    fallback = "".join(ch for ch in fallback if ch.isprintable() and ch not in '"\\').strip() or "document"
    return f"attachment; filename=\"{fallback}\"; filename*=UTF-8''{quote(filename, safe='')}"


def _files_path(ctx: TenantContext) -> str:
    return f"/t/{ctx.tenant['slug']}/files"


async def _documents_page(
    request: Request, ctx: TenantContext, *, page_number: str | None = None, status_code: int = 200,
    values: dict | None = None, errors: dict | None = None,
) -> Response:
    listing = await services.list_documents(ctx.tenant, page=page_number)
    return await page(
        request, "files.DocumentsPage", status_code=status_code,
        rows=listing.rows, pager=listing.pager, values=values or {}, errors=errors or {},
        can_upload=can(ctx.access, "files.upload"), can_delete=can(ctx.access, "files.delete"),
        max_size=services.size_label(get_settings().max_upload_bytes), base=_files_path(ctx),
        type_label=services.type_label, size_label=services.size_label,
    )


@get("/files", include_in_schema=False)
async def documents(request: Request, ctx: TenantContext, page: str | None = None) -> Response:
    ctx.require("files.view")
    return await _documents_page(request, ctx, page_number=page)


@post("/files", include_in_schema=False)
async def upload_document(request: Request, ctx: TenantContext) -> Response:
    ctx.require("files.upload")
    form = await request.form()
    description = form.get("description") if isinstance(form.get("description"), str) else ""
    upload = form.get("file")
    data, filename = b"", ""
    if isinstance(upload, UploadFile):
        data, filename = await upload.read(), upload.filename or ""
        await upload.close()
    try:
        stored = await services.store_file(
            ctx.tenant, data=data, filename=filename, description=description, actor=ctx.actor,
        )
    except ValidationFailed as exc:
        return await _documents_page(
            request, ctx, status_code=422, values={"description": description}, errors=exc.errors,
        )
    await flash(request, _("The document “%(name)s” has been uploaded.", name=stored["filename"]))
    return redirect(_files_path(ctx))


@get("/files/{file_id:int}", include_in_schema=False)
async def download_document(ctx: TenantContext, file_id: int) -> Stream:
    ctx.require("files.view")
    row, chunks = await services.open_document(ctx.tenant, file_id, ctx.actor)
    return Stream(
        chunks,
        media_type=row["content_type"],
        headers={
            "Content-Disposition": attachment_disposition(row["filename"]),
            "Content-Length": str(row["size_bytes"]),
            "X-Content-Type-Options": "nosniff",
            # documents may hold personal data: no shared caches, and never run as a page
            "Cache-Control": "private, no-store",
            "Content-Security-Policy": "sandbox",
        },
    )


@get("/files/{file_id:int}/delete", include_in_schema=False)
async def confirm_delete(request: Request, ctx: TenantContext, file_id: int) -> Response:
    ctx.require("files.delete")
    document = await services.get_document(ctx.tenant, file_id)
    return await page(
        request, "files.DeletePage", document=document, values={}, errors={}, base=_files_path(ctx),
        type_label=services.type_label, size_label=services.size_label,
    )


@post("/files/{file_id:int}/delete", include_in_schema=False)
async def delete_document(request: Request, ctx: TenantContext, file_id: int) -> Response:
    ctx.require("files.delete")
    data = await form_data(request)
    try:
        deleted = await services.delete_document(ctx.tenant, file_id, reason=data.get("reason", ""), actor=ctx.actor)
    except ValidationFailed as exc:
        document = await services.get_document(ctx.tenant, file_id)
        return await page(
            request, "files.DeletePage", status_code=422, document=document, values=data, errors=exc.errors,
            base=_files_path(ctx), type_label=services.type_label, size_label=services.size_label,
        )
    await flash(request, _("The document “%(name)s” has been deleted.", name=deleted["filename"]))
    return redirect(_files_path(ctx))


router = Router(
    path="/t/{tenant_slug:str}",
    route_handlers=[documents, upload_document, download_document, confirm_delete, delete_document],
    dependencies={"ctx": Provide(provide_tenant_context)},
)
