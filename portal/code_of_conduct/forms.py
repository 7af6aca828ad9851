"""Reading the Code of Conduct forms: repeated fields (commitments, indicator rows) and file inputs."""

from __future__ import annotations

from litestar import Request
from litestar.datastructures import UploadFile

from portal.code_of_conduct.files import Upload
from portal.code_of_conduct.measures import MeasureInput

EMPTY_INDICATOR_ROWS = 2


def _text(form, name: str) -> str:
    value = form.get(name)
    return value if isinstance(value, str) else ""


def _texts(form, name: str) -> list[str]:
    return [v for v in form.getall(name)] if name in form else []


async def read_uploads(form, name: str) -> list[Upload]:
    """Every file of a (possibly multiple) file input; an input left empty gives nothing."""
    uploads = []
    for item in form.getall(name) if name in form else []:
        if isinstance(item, UploadFile):
            data = await item.read()
            await item.close()
            if data or item.filename:
                uploads.append(Upload(filename=item.filename or "", data=data))
    return uploads


async def read_measure_form(request: Request) -> tuple[MeasureInput, list[Upload]]:
    form = await request.form()
    names = [v if isinstance(v, str) else "" for v in _texts(form, "indicator_name")]
    values = [v if isinstance(v, str) else "" for v in _texts(form, "indicator_value")]
    values += [""] * (len(names) - len(values))
    data = MeasureInput(
        title=_text(form, "title"),
        description=_text(form, "description"),
        category=_text(form, "category"),
        status=_text(form, "status") or "planned",
        start_date=_text(form, "start_date"),
        end_date=_text(form, "end_date"),
        commitment_ids=[v for v in _texts(form, "commitments") if isinstance(v, str)],
        indicators=list(zip(names, values, strict=False)),
    )
    return data, await read_uploads(form, "evidence")


def indicator_rows(data: MeasureInput) -> list[tuple[str, str]]:
    """The typed indicator rows plus a few empty ones to add more."""
    rows = [(n, v) for n, v in data.indicators if n.strip() or v.strip()]
    return rows + [("", "")] * max(EMPTY_INDICATOR_ROWS, 3 - len(rows))


async def read_sign_form(request: Request) -> tuple[dict, Upload | None]:
    form = await request.form()
    values = {
        name: _text(form, name)
        for name in ("version_id", "content_hash", "signatory_name", "signatory_title", "confirm")
    }
    uploads = await read_uploads(form, "signed_pdf")
    return values, uploads[0] if uploads else None
