"""Priority and state badges of incidents, as tags: a list row renders two of them per incident."""

import functools
from datetime import timedelta
from typing import Any

from django import template
from django.core.paginator import Page
from django.template import engines
from django.template.defaulttags import querystring as django_querystring
from django.template.loader import get_template
from django.utils import timezone
from django.utils.html import format_html
from django.utils.safestring import SafeString, mark_safe
from django.utils.translation import get_language
from django.utils.translation import gettext as _

from incidents import columns as queue_columns
from incidents.choices import Priority, State
from incidents.selectors import next_deadline
from opscenter.core.columns import rows_template
from opscenter.core.formatting import humanise_duration
from opscenter.core.jinja import local, url_for_pk

register = template.Library()

PRIORITY_CLASSES = {"P1": "bg-red text-red-fg", "P2": "bg-orange text-orange-fg", "P3": "bg-yellow-lt"}
STATE_CLASSES = {
    State.REPORTED: "bg-azure-lt", State.CLASSIFIED: "bg-blue-lt", State.ASSIGNED: "bg-indigo-lt",
    State.DIAGNOSING: "bg-orange-lt", State.HANDLING: "bg-orange-lt", State.RECOVERING: "bg-yellow-lt",
    State.RESOLVED: "bg-green-lt", State.UNDER_REVIEW: "bg-teal-lt", State.CLOSED: "bg-secondary text-secondary-fg",
}


@register.simple_tag
def priority_badge(priority: str) -> str:
    return _priority_badge(priority, get_language())


@register.simple_tag
def state_badge(state: str) -> str:
    return _state_badge(state, get_language())


@register.simple_tag
def due_cell(incident: Any) -> str:
    """When the incident's next deadline falls, what it is ("Assign by", "Respond by" …) and the time left before it
    (or how long it is overdue, in red); a paused incident says so; nothing due, a dash."""
    deadline = next_deadline(incident)
    if deadline is None:
        if incident.state == State.ON_HOLD:
            return format_html('<span class="text-secondary due-paused">{}</span>', _("Paused"))
        return mark_safe('<span class="text-secondary">–</span>')  # noqa: S308 - a constant
    # Three short lines rather than one long one: the queue keeps its every column in 1366 pixels.
    return format_html('<div class="text-secondary small text-nowrap due-label">{}</div>'
                       '<div class="text-nowrap due-time"><time datetime="{}">{}</time></div>'
                       '<div class="small text-nowrap">{}</div>',
                       deadline.label, deadline.at.isoformat(), local(deadline.at),
                       _time_left(deadline))


MINUTE = timedelta(minutes=1)


def _time_left(deadline: Any) -> str:
    left = deadline.left(timezone.now())
    if left.total_seconds() < 0:
        return format_html('<span class="badge bg-red-lt time-left overdue">{}</span>',
                           _("overdue by %(duration)s") % {"duration": humanise_duration(max(-left, MINUTE))})
    return format_html('<span class="time-left{}">{}</span>', " text-orange" if left.total_seconds() < 15 * 60 else "",
                       _("%(duration)s left") % {"duration": humanise_duration(left)})


# A badge depends on its value and the language only: a list page shows the same few dozen.
@functools.lru_cache(maxsize=256)
def _priority_badge(priority: str, language: str | None) -> str:
    if not priority:
        return format_html('<span class="badge bg-transparent text-secondary border" title="{}">–</span>',
                           _("Not classified yet"))
    label = Priority(priority).label if priority in Priority.values else priority
    return format_html('<span class="badge priority-badge priority-{} {}" title="{}">{}</span>', priority.lower(),
                       PRIORITY_CLASSES.get(priority, "bg-secondary-lt"), label, priority)


@functools.lru_cache(maxsize=256)
def _state_badge(state: str, language: str | None) -> str:
    label = State(state).label if state in State.values else state
    return format_html('<span class="badge state-badge state-{} {}">{}</span>', state,
                       STATE_CLASSES.get(state, "bg-secondary-lt"), label)


@functools.cache
def _queue_rows() -> Any:
    """The template of the queue's rows, made of its columns' cells once (its words translated when drawn)."""
    helpers = {"priority_badge": priority_badge, "state_badge": state_badge, "due_cell": due_cell,
               **queue_columns.CELL_WORDS}
    return rows_template(queue_columns.QUEUE_COLUMNS, engines["jinja2"].env, helpers)


@register.simple_tag(takes_context=True)
def queue(context: template.Context, page: Page, form: Any, queues: list, current: str, sort: str) -> SafeString:
    """The queue's tabs, filter bar and table, drawn by Jinja2 (templates/jinja2/incidents/queue.html) from the
    queue's columns (incidents.columns): with Django's engine, the rows, the tab and sort links and the filter bar
    were most of a list page's time. The markup is the same, every value escaped."""
    def querystring(**changes: Any) -> str:
        return django_querystring(context, **changes)  # Django's {% querystring %}

    columns = []
    for column in queue_columns.QUEUE_COLUMNS:
        header = {"label": column.label, "href": ""}
        if column.sort:
            key, first = column.sort_key, column.sort
            again = first[1:] if first.startswith("-") else f"-{first}"
            header.update({"active": sort in (key, f"-{key}"),
                           "href": querystring(sort=again if sort == first else first, page=None),
                           "arrow": " ↑" if sort == key else " ↓" if sort == f"-{key}" else ""})
        columns.append(header)
    html = get_template("incidents/queue.html", using="jinja2").render({
        "queues": queues, "queue": current, "sort": sort, "querystring": querystring, "columns": columns,
        "fields": [field for field in form if field.name != "sort"], "filtered": form.active,
        "default_sort": form.default_sort,
        "rows": _queue_rows().render(rows=list(page), link_for=url_for_pk("incidents:incident-detail")),
        "has_rows": bool(page.object_list),
        "labels": {"filter_button": _("Filter"), "clear_filters": _("Clear"),
                   "empty": _("No incidents here."), "no_match": _("No incident matches these filters."),
                   "other_tab": _("Try another tab.")},
    })
    return mark_safe(html)  # noqa: S308 - rendered with autoescape on
