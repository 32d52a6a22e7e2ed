"""The tabs of the service level pages, for the signed-in user (their roles are cached: no query)."""

from typing import Any

from django import template

from sla.panels import tabs_for

register = template.Library()


@register.inclusion_tag("sla/includes/tabs.html", takes_context=True)
def sla_tabs(context: dict[str, Any]) -> dict[str, Any]:
    request = context["request"]
    return {"tabs": tabs_for(request.user, request.path)}


@register.filter(name="calendar_label")
def calendar_label_filter(name: str) -> str:
    """A calendar's name in the reader's language where it is one the data migration ships."""
    from sla.models import calendar_label

    return calendar_label(name or "")
