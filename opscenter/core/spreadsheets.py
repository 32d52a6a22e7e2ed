"""CSV downloads every app's reports offer: UTF-8 with a byte-order mark (so that spreadsheet programs read Chinese
names), and no cell a spreadsheet program would run as a formula."""

import csv
from collections.abc import Iterable
from typing import Any

from django.http import HttpResponse

FORMULA_LEADS = ("=", "+", "-", "@", "\t", "\r")


def csv_cell(value: Any) -> Any:
    """Keep spreadsheet programs from running a text as a formula."""
    if isinstance(value, str) and value[:1] in FORMULA_LEADS:
        return "'" + value
    return value


def csv_response(filename: str, rows: Iterable[Iterable[Any]]) -> HttpResponse:
    """A CSV download named `filename` with `rows` (the first is the header), every text cell made safe."""
    response = HttpResponse(content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    response.write("\ufeff")
    writer = csv.writer(response)
    for row in rows:
        writer.writerow([csv_cell(cell) for cell in row])
    return response
