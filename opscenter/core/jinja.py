"""The Jinja2 environment of the fragments drawn many times a page (see TEMPLATES in settings).

Fragments get their translated words from the Python that renders them, so every string of the project
stays where `makemessages` finds it; the environment adds only local date-times; links come filled in
(`url_for_pk`), and Django's safe strings stay safe (Jinja2 respects `__html__`).
"""

from collections.abc import Callable
from datetime import datetime
from typing import Any

from django.urls import reverse
from django.utils import timezone
from jinja2 import Environment, StrictUndefined

from opscenter.core.formatting import DATETIME_FORMAT


def local(value: datetime | None, fmt: str = DATETIME_FORMAT) -> str:
    """A date-time in the center's time zone, in the pages' one format by default (`local_datetime`)."""
    if value is None:
        return ""
    return timezone.localtime(value).strftime(fmt)


_PLACEHOLDER = 987654321


def url_for_pk(name: str) -> Callable[[int], str]:
    """`reverse(name, args=[pk])` for the many rows of one page: the URL is reversed once and filled in."""
    head, tail = reverse(name, args=[_PLACEHOLDER]).split(str(_PLACEHOLDER))
    return lambda pk: f"{head}{int(pk)}{tail}"


def environment(**options: Any) -> Environment:
    options.setdefault("undefined", StrictUndefined)  # a misspelt name fails the test, not the page silently
    env = Environment(**options)
    env.filters["local"] = local
    return env
