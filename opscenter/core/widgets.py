"""Form widgets of the pages."""

from typing import Any

from django import forms
from django.utils.html import format_html
from django.utils.safestring import SafeString, mark_safe

SELECTED = mark_safe(" selected")  # noqa: S308 - a constant


def html_attrs(attrs: dict[str, Any]) -> SafeString:
    """Attributes as Django's widget templates write them: in order, True as a bare name, False left out."""
    return mark_safe("".join(  # noqa: S308 - escaped by format_html
        format_html(" {}", name) if value is True else format_html(' {}="{}"', name, value)
        for name, value in attrs.items() if value is not False))


class FastSelect(forms.Select):
    """A <select> written out in Python with the same markup as Django's. Django's draws a template per
    option and builds a dictionary of attributes for each first; on pages with filter bars and transition
    forms that was most of the time spent outside the database."""

    def render(self, name: str, value: Any, attrs: dict[str, Any] | None = None, renderer: Any = None) -> SafeString:
        final_attrs = self.build_attrs(self.attrs, attrs)
        if self.allow_multiple_selected:
            final_attrs["multiple"] = True
        values = self.format_value(value)
        parts = [format_html('<select name="{}"{}>', name, html_attrs(final_attrs))]
        has_selected = False
        for option_value, option_label in self.choices:
            if option_value is None:
                option_value = ""
            grouped = isinstance(option_label, (list, tuple))
            if grouped and option_value:
                parts.append(format_html('<optgroup label="{}">', option_value))
            for subvalue, sublabel in option_label if grouped else [(option_value, option_label)]:
                # As Django's Select: the first option matching the value is the selected one.
                selected = (not has_selected or self.allow_multiple_selected) and str(subvalue) in values
                has_selected |= selected
                parts.append(format_html('<option value="{}"{}>{}</option>', "" if subvalue is None else subvalue,
                                         SELECTED if selected else "", sublabel))
            if grouped and option_value:
                parts.append("</optgroup>")
        parts.append("</select>")
        return mark_safe("".join(parts))  # noqa: S308 - every piece above is escaped by format_html
