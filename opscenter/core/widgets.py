"""Form widgets of the pages."""

from typing import Any

from django import forms
from django.forms.utils import flatatt
from django.utils.html import format_html
from django.utils.safestring import SafeString, mark_safe


class FastSelect(forms.Select):
    """A <select> written out in Python with the same markup as Django's: the template renderer draws one
    template per option, which dominated pages with filter bars and transition forms."""

    def _render(self, template_name: str, context: dict[str, Any], renderer: Any = None) -> SafeString:
        widget = context["widget"]
        parts = [format_html("<select name=\"{}\"{}>", widget["name"], flatatt(widget["attrs"]))]
        for group_name, options, _index in widget["optgroups"]:
            if group_name:
                parts.append(format_html("<optgroup label=\"{}\">", group_name))
            for option in options:
                value = "" if option["value"] is None else option["value"]
                parts.append(format_html("<option value=\"{}\"{}>{}</option>", value, flatatt(option["attrs"]),
                                         option["label"]))
            if group_name:
                parts.append("</optgroup>")
        parts.append("</select>")
        return mark_safe("".join(parts))  # noqa: S308 - every piece above is escaped by format_html
