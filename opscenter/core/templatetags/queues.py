"""Tags of the list pages (queues) every process draws the same way."""

from typing import Any

from django import template
from django.utils.html import format_html

register = template.Library()


@register.simple_tag(takes_context=True)
def sort_header(context: dict[str, Any], first: str, label: Any) -> str:
    """A sortable column's header: `first` is the order a first click sorts by (`"state"` ascending, `"-risk"`
    descending); a click on the column it sorts already reverses it. Keeps the page's other parameters and goes
    back to the first page; marks the current order with an arrow."""
    key = first.lstrip("-")
    sort = context.get("sort", "")
    opposite = key if first.startswith("-") else f"-{key}"
    query = context["request"].GET.copy()
    query.pop("page", None)
    query["sort"] = opposite if sort == first else first
    arrow = " ↑" if sort == key else " ↓" if sort == f"-{key}" else ""
    active = " active" if arrow else ""
    return format_html('<a class="table-sort-link{}" href="?{}">{}{}</a>', active, query.urlencode(), label, arrow)
