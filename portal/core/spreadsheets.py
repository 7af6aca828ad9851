"""Tables written as CSV and XLSX files, safe to open in a spreadsheet.

Exports carry text that other people typed (organisation names, notes, narratives): a cell that
starts like a formula is prefixed with a quote, so a spreadsheet shows it instead of running it.
"""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass

from openpyxl import Workbook
from openpyxl.styles import Font
from openpyxl.utils import get_column_letter

FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


@dataclass
class Table:
    name: str
    header: list[str]
    rows: list[list[object]]


def safe_cell(value: object) -> object:
    """Text that a spreadsheet would run as a formula is prefixed with a quote (CSV/formula injection)."""
    if isinstance(value, str) and value.startswith(FORMULA_START):
        return "'" + value
    return value


def to_csv(table: Table) -> bytes:
    text = io.StringIO()
    writer = csv.writer(text)
    writer.writerow(table.header)
    writer.writerows([["" if value is None else safe_cell(value) for value in row] for row in table.rows])
    # The byte-order mark lets Excel open Albanian letters (ë, ç) correctly.
    return text.getvalue().encode("utf-8-sig")


def to_xlsx(tables: list[Table]) -> bytes:
    """One sheet per table, bold frozen header row."""
    workbook = Workbook()
    workbook.remove(workbook.active)
    for table in tables:
        sheet = workbook.create_sheet(table.name[:31])
        sheet.append(table.header)
        for cell in sheet[1]:
            cell.font = Font(bold=True)
        for row in table.rows:
            sheet.append([safe_cell(value) for value in row])
        for index in range(1, len(table.header) + 1):
            sheet.column_dimensions[get_column_letter(index)].width = 18 if index > 1 else 34
        sheet.freeze_panes = "A2"
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()
