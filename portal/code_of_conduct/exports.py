"""The signatory registry as CSV and XLSX files for regulators."""

from __future__ import annotations

import csv
import io
from datetime import datetime

from openpyxl import Workbook
from openpyxl.styles import Font
from openpyxl.utils import get_column_letter

from portal.code_of_conduct.labels import label
from portal.core.i18n import TIMEZONE, _
from portal.core.labels import kind_label
from portal.core.spreadsheets import safe_cell

def _local(value: datetime | None) -> datetime | None:
    # Spreadsheets have no time zones: show the time as it was in Tirana.
    return value.astimezone(TIMEZONE).replace(tzinfo=None, microsecond=0) if value else None


def registry_table(rows: list[dict]) -> tuple[list[str], list[list[object]]]:
    header = [
        _("Organisation"), _("Type"), _("NIPT"), _("Status"), _("Version"), _("Fingerprint (SHA-256)"),
        _("Signed on"), _("Signatory"), _("Signatory's title"), _("Withdrawn on"), _("Reason for withdrawal"),
        _("Measures logged"),
    ]
    body = []
    for row in rows:
        signature = row["signature"] or {}
        body.append(
            [
                row["organisation"], kind_label(row["kind"]), row["nipt"], label("signing_status", row["status"]),
                row["version_label"], signature.get("signed_hash", ""), _local(signature.get("signed_at")),
                signature.get("signatory_name", ""), signature.get("signatory_title", ""),
                _local(signature.get("withdrawn_at")), signature.get("withdrawal_reason", ""), row["measures"],
            ]
        )
    return header, body


def registry_csv(rows: list[dict]) -> bytes:
    header, body = registry_table(rows)
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(header)
    for line in body:
        writer.writerow(
            [value.strftime("%Y-%m-%d %H:%M") if isinstance(value, datetime) else safe_cell("" if value is None else value)
             for value in line]
        )
    # The byte-order mark lets Excel open Albanian letters (ë, ç) correctly.
    return buffer.getvalue().encode("utf-8-sig")


def registry_xlsx(rows: list[dict]) -> bytes:
    header, body = registry_table(rows)
    workbook = Workbook()
    sheet = workbook.active
    sheet.title = _("Signatories")[:31]
    sheet.append(header)
    for cell in sheet[1]:
        cell.font = Font(bold=True)
    for line in body:
        sheet.append([safe_cell(value) for value in line])
    widths = [40, 28, 12, 28, 10, 66, 18, 28, 28, 18, 40, 10]
    for index, width in enumerate(widths, start=1):
        sheet.column_dimensions[get_column_letter(index)].width = width
    for column in (7, 10):
        for cell in sheet[get_column_letter(column)][1:]:
            cell.number_format = "yyyy-mm-dd hh:mm"
    sheet.freeze_panes = "A2"
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()
