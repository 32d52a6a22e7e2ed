"""Form widgets of the pages, written out in Python with the same markup as Django's templates.

Django draws every widget through its template engine (a template for the widget, one for its attributes,
one per option of a select), which was most of the time a page with a filter bar or transition forms spent
outside the database. These write the same markup directly; a test compares them with Django's output."""

import functools
from html import escape
from typing import Any

from django import forms
from django.forms.widgets import Input
from django.utils.safestring import SafeData, SafeString, mark_safe

SELECTED = " selected"
# Django's input templates that are only `{% include "django/forms/widgets/input.html" %}` (a test checks it).
INPUT_TEMPLATES = frozenset(f"django/forms/widgets/{name}.html" for name in (
    "input", "text", "number", "email", "url", "color", "search", "tel", "date", "datetime", "time", "hidden",
    "file", "password", "checkbox"))


def _text(value: Any) -> str:
    """`{{ value|stringformat:'s' }}`: a safe string as it is (the filter keeps it safe), anything else escaped."""
    return str(value) if isinstance(value, SafeData) else escape(str(value))


def _shown(value: Any) -> str:
    """`{{ value }}`: a safe string as it is, anything else escaped."""
    return value.__html__() if hasattr(value, "__html__") else escape(str(value))


def html_attrs(attrs: dict[str, Any]) -> SafeString:
    """Attributes as Django's attrs.html writes them: in order, True as a bare name, False left out."""
    return mark_safe("".join(  # noqa: S308 - every name and value escaped
        f" {_shown(name)}" if value is True else f' {_shown(name)}="{_text(value)}"'
        for name, value in attrs.items() if value is not False))


class FastSelect(forms.Select):
    """A <select> written out as Django's select.html and select_option.html write it. Django's builds a
    dictionary of attributes and draws a template for each option."""

    def render(self, name: str, value: Any, attrs: dict[str, Any] | None = None, renderer: Any = None) -> SafeString:
        final_attrs = self.build_attrs(self.attrs, attrs)
        if self.allow_multiple_selected:
            final_attrs["multiple"] = True
        values = self.format_value(value)
        parts = [f'<select name="{_shown(name)}"{html_attrs(final_attrs)}>']
        has_selected = False
        for option_value, option_label in self.choices:
            if option_value is None:
                option_value = ""
            grouped = isinstance(option_label, (list, tuple))
            if grouped and option_value:
                parts.append(f'<optgroup label="{_shown(option_value)}">')
            for subvalue, sublabel in option_label if grouped else [(option_value, option_label)]:
                # As Django's Select: the first option matching the value is the selected one.
                selected = (not has_selected or self.allow_multiple_selected) and str(subvalue) in values
                has_selected |= selected
                parts.append(f'<option value="{"" if subvalue is None else _text(subvalue)}"'
                             f'{SELECTED if selected else ""}>{_shown(sublabel)}</option>')
            if grouped and option_value:
                parts.append("</optgroup>")
        parts.append("</select>")
        return mark_safe("".join(parts))  # noqa: S308 - every value and label above is escaped


class FastInputMixin:
    """An <input> written out as Django's input.html and attrs.html write it."""

    def render(self, name: str, value: Any, attrs: dict[str, Any] | None = None, renderer: Any = None) -> SafeString:
        value = self.format_value(value)
        shown = "" if value is None else f' value="{_text(value)}"'
        return mark_safe(  # noqa: S308 - every name and value escaped
            f'<input type="{_shown(self.input_type)}" name="{_shown(name)}"{shown}'
            f"{html_attrs(self.build_attrs(self.attrs, attrs))}>")


def writes_out(widget_class: type[forms.Widget]) -> bool:
    """Whether an input class is drawn by input.html from Input's context alone (not a password, a checkbox
    or a cleared file, whose context differs, nor a widget of our own with its own template)."""
    return (issubclass(widget_class, Input) and widget_class.template_name in INPUT_TEMPLATES
            and widget_class.get_context is Input.get_context and widget_class.render is forms.Widget.render)


@functools.cache
def fast_class(widget_class: type[forms.Widget]) -> type[forms.Widget] | None:
    """The written-out variant of a widget class, or None when it has none."""
    if widget_class is forms.Select:
        return FastSelect
    if writes_out(widget_class):
        return type(f"Fast{widget_class.__name__}", (FastInputMixin, widget_class), {"__module__": __name__})
    return None


def write_out(widget: forms.Widget) -> None:
    """Give a widget its written-out variant, if its class has one (the same widget otherwise)."""
    fast = fast_class(type(widget))
    if fast is not None:
        widget.__class__ = fast
