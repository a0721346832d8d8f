"""CSV files that a spreadsheet opens without running anything.

Excel, LibreOffice and Google Sheets treat a cell that starts with ``=``, ``+``, ``-`` or
``@`` (and, in some versions, a tab or carriage return) as a formula: a label typed by staff as
``=HYPERLINK("http://evil.test")`` or ``=cmd|' /C calc'!A0`` would run in the reader's
spreadsheet ("CSV injection"). Every CSV the app writes goes through ``writer`` or
``DictWriter`` here, which put a single quote before such a cell, as OWASP recommends: the
spreadsheet shows the text as typed (after the quote) and runs nothing. Numbers are left alone,
so number columns stay numbers (``-3.5`` is a number, not a formula).
"""
from __future__ import annotations

import csv
import math

FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def _is_number(text: str) -> bool:
    try:
        return math.isfinite(float(text))
    except ValueError:
        return False


def neutralise(cell):
    """The cell as written: text a spreadsheet would read as a formula gets a leading quote."""
    if isinstance(cell, str) and cell.startswith(FORMULA_START) and not _is_number(cell):
        return "'" + cell
    return cell


class writer:
    """csv.writer whose rows are neutralised cell by cell."""

    def __init__(self, out, **kwargs):
        self._writer = csv.writer(out, **kwargs)

    def writerow(self, row):
        return self._writer.writerow([neutralise(cell) for cell in row])

    def writerows(self, rows):
        for row in rows:
            self.writerow(row)


class DictWriter(csv.DictWriter):
    """csv.DictWriter whose values (and header) are neutralised cell by cell."""

    def _dict_to_list(self, rowdict):
        return [neutralise(cell) for cell in super()._dict_to_list(rowdict)]
