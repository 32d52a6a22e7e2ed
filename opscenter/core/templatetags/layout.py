"""Tags of the page layout (base.html)."""

from django import template

from opscenter.core.navigation import reverse_once

register = template.Library()


@register.simple_tag
def layout_url(url_name: str) -> str:
    """`{% url url_name %}` for the layout's fixed addresses, reversed once (see `reverse_once`)."""
    return reverse_once(url_name)
