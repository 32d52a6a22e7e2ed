"""Notification kinds: what each app says when something happens, rendered per reader in the reader's language.

An outbox row stores its kind (`Notification.event`) and the event's parameters (`Notification.payload`:
ticket number, title, priority, service, due time, actor, states …), never the text. Each app declares its
kinds in its `notifications.py` (found at start-up, like `admin.py`); the kernel renders a row for whoever
reads it: in-app pages and the API in the reader's language, e-mail in the recipient's, webhooks in the
endpoint's. Rows written before kinds existed (or with `subject=` text) show their stored text.
"""

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from django.conf import settings
from django.db import models
from django.utils import dateformat, timezone, translation
from django.utils.dateparse import parse_datetime
from django.utils.functional import Promise
from django.utils.translation import gettext, pgettext_lazy
from django.utils.translation import gettext_lazy as _

EMAIL_SUBJECT_PREFIX = "[OpsCenter] "

# The facts a reader needs, in the order they are listed under a notification (a parameter of that name).
FACTS: tuple[tuple[str, Promise], ...] = (
    ("priority", _("Priority")),
    ("risk", _("Risk")),
    ("service", _("Service")),
    ("state", _("State")),
    ("due_at", pgettext_lazy("notification fact", "Due")),
    ("starts_at", _("Planned start")),
    ("actor", _("By")),
)


@dataclass(frozen=True)
class NotificationKind:
    """One thing an app tells people: its event name, a short label (the inbox's filter), the subject and an
    optional body, both `%(name)s` templates over the event's parameters.

    `labels` names the parameters that hold a code of a choices class (a state, a clock kind): they are shown
    as the choice's label in the reader's language. A parameter whose name ends in `_at` holds an ISO date
    and time and is shown in local time. The `priority` and the ticket's `number` lead the subject unless the
    template places them itself: "assigned to you: %(title)s" reads "P1 INC-2026-000123 assigned to you: …".
    """

    event: str
    label: Promise | str
    subject: Promise | str
    body: Promise | str = ""
    labels: Mapping[str, type[models.Choices]] = field(default_factory=dict)

    def render(self, params: Mapping[str, Any]) -> "Rendered":
        """The text in the active language (call inside `translation.override`)."""
        values = _display_values(params, self.labels)
        subject = _fill(self.subject, values)
        template = str(self.subject)
        lead = [str(params[key]) for key in ("priority", "number")
                if params.get(key) and f"%({key})" not in template]
        if lead:
            subject = " ".join([*lead, subject])
        body = _fill(self.body, values) if self.body else ""
        facts = [(str(label), values[key]) for key, label in FACTS if values.get(key) not in (None, "")]
        return Rendered(subject=subject, body=body, facts=facts)


@dataclass(frozen=True)
class Rendered:
    subject: str
    body: str = ""
    facts: list[tuple[str, str]] = field(default_factory=list)

    def fact_lines(self) -> list[str]:
        """The facts as "Priority: P1" lines in the active language."""
        return [gettext("%(label)s: %(value)s") % {"label": label, "value": value} for label, value in self.facts]


_KINDS: dict[str, NotificationKind] = {}


def declare(*kinds: NotificationKind) -> tuple[NotificationKind, ...]:
    """Register an app's kinds (from its `notifications.py`); an event name is declared once."""
    for kind in kinds:
        known = _KINDS.get(kind.event)
        if known is not None and known != kind:
            raise ValueError(f"notification kind {kind.event!r} is declared twice")
        _KINDS[kind.event] = kind
    return kinds


def kind_of(event: str) -> NotificationKind | None:
    return _KINDS.get(event)


def kind_label(event: str) -> str:
    kind = _KINDS.get(event)
    return str(kind.label) if kind else event


def discover() -> None:
    """Import every installed app's `notifications.py` (the kernel's ready())."""
    from django.utils.module_loading import autodiscover_modules

    autodiscover_modules("notifications")


def language_of(person: Any) -> str:
    """The language a user (or webhook endpoint) reads: their preference, else the site's default."""
    return getattr(person, "language", "") or settings.LANGUAGE_CODE


def reader_language(user: Any) -> str:
    """The language a signed-in reader reads now: their preference, else the request's language."""
    return getattr(user, "language", "") or translation.get_language() or settings.LANGUAGE_CODE


def render(row: Any, language: str | None = None) -> Rendered:
    """A notification's text for one reader: its kind rendered in `language` (the active one when None), or the
    stored text of a row that has no kind."""
    kind = _KINDS.get(row.event)
    if kind is None or row.subject:
        return Rendered(subject=row.subject, body=row.body)
    if language is None:
        return kind.render(row.payload or {})
    with translation.override(language):
        return kind.render(row.payload or {})


def with_text(rows: Iterable[Any]) -> list[Any]:
    """In-app rows with their text in the active language (the reader's, on a page): `row.text.subject`,
    `.body`, `.facts`, and `row.kind_label`."""
    rows = list(rows)
    for row in rows:
        row.text = render(row)
        row.kind_label = kind_label(row.event)
    return rows


def timestamp(value: datetime | None) -> str | None:
    """A date and time as a parameter (ISO, rendered in local time)."""
    return value.isoformat() if value else None


def ticket_params(ticket: Any, **extra: Any) -> dict[str, Any]:
    """The parameters every ticket's notification carries (id, number, title, state), with the app's own."""
    params = {"id": ticket.pk, "number": ticket.number, "title": ticket.title,
              "state": getattr(ticket, ticket.STATE_FIELD, "")}
    params.update(extra)
    return params


def _display_values(params: Mapping[str, Any], labels: Mapping[str, type[models.Choices]]) -> dict[str, Any]:
    values: dict[str, Any] = {}
    for key, value in params.items():
        if key in labels and value not in (None, ""):
            choices = dict(labels[key].choices)
            values[key] = str(choices.get(value, value))
        elif key.endswith("_at") and isinstance(value, str):
            moment = parse_datetime(value)
            values[key] = dateformat.format(timezone.localtime(moment), "Y-m-d H:i") if moment else value
        else:
            values[key] = value
    return values


def _fill(template: Promise | str, values: dict[str, Any]) -> str:
    text = str(template)
    try:
        return text % _Lenient(values)
    except (TypeError, ValueError):  # a parameter an older row lacks, where the template wants a number
        return text % _Lenient({key: value for key, value in values.items() if value is not None}, blank="0")


class _Lenient(dict):
    """Parameters for a template: one an older row lacks reads as blank rather than failing the page."""

    def __init__(self, values: dict[str, Any], blank: str = "") -> None:
        super().__init__(values)
        self.blank = blank

    def __missing__(self, key: str) -> Any:
        return 0 if self.blank == "0" else ""
