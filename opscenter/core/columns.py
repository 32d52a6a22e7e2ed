"""Columns of a list page declared once: what each shows (its header, its cell), what it reads, how it sorts.

A list's query reads what its columns declare (`column_reads`: the joins and the columns, nothing more), and its
template draws the header and the cells by going through the same declarations, so adding a column to a list
is one entry in its list of columns.
"""

import functools
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from django.utils.functional import Promise


@dataclass(frozen=True, eq=False)
class Column:
    """One column of a list page.

    `reads`: the fields its cell shows, as the ORM names them (`"title"`, `"service__name"`): the list joins the
    related records named and reads only these columns of them. `cell`: the cell's markup, a Jinja2 fragment
    with the row as `row` and its link as `link` (escaped as every value the fragment writes). `sort`: the order a
    first click on the header sorts by (a key of the page's sort orders, `-` for descending), blank when it does
    not sort. `css`: the cell's classes."""

    name: str
    label: str | Promise
    reads: tuple[str, ...]
    cell: str
    sort: str = ""
    css: str = ""

    @property
    def sort_key(self) -> str:
        return self.sort.lstrip("-")


@functools.cache
def column_reads(columns: Sequence[Column]) -> tuple[tuple[str, ...], tuple[str, ...]]:
    """(the relations to join, the fields to read) for rows that show `columns`: every field a column reads, and
    the key of each relation it reads through (which `only()` needs to follow a join)."""
    joins: dict[str, None] = {}
    fields: dict[str, None] = {}
    for column in columns:
        for path in column.reads:
            relation = path.rpartition("__")[0]
            if relation:
                for depth in range(1, relation.count("__") + 2):
                    joins["__".join(relation.split("__")[:depth])] = None
            fields[path] = None
    return tuple(joins), (*joins, *fields)


def rows_template(columns: Sequence[Column], environment: Any, helpers: dict[str, Any]) -> Any:
    """The rows of a list as one Jinja2 template made of its columns' cells (a `<tr>` per row of `rows`, a `<td>`
    per column, each cell given `row` and its `link` from `link_for(row.pk)`), with `helpers` (the page's badge
    tags, its words …) as the other names a cell may use. Made once per process: one template for the page's
    rows draws them in a fraction of the time of a macro or an include per cell."""
    cells = "".join(("<td>" if not column.css else f'<td class="{column.css}">') + column.cell + "</td>"
                    for column in columns)
    return environment.from_string(
        f"{{% for row in rows %}}{{% set link = link_for(row.pk) %}}<tr>{cells}</tr>\n{{% endfor %}}",
        globals=helpers)
