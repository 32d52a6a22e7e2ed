"""What apps on higher floors add to a lower floor's detail pages and API without it importing them: sections of a
detail page (a template and its context) and read-only fields of a detail serializer, per model."""

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from django.db.models import Model
from django.template.loader import render_to_string
from django.utils.safestring import SafeString


@dataclass(frozen=True)
class DetailSection:
    """A block of a model's detail page: `template` rendered with what `context(obj, user)` returns (and
    `object`); a context of None leaves the section out."""

    model_label: str
    key: str
    template: str
    context: Callable[[Any, Any], dict[str, Any] | None]
    order: int = 100


@dataclass(frozen=True)
class ExtraField:
    """A read-only field added to a model's detail serializer, made by `field()` (a DRF field, so the OpenAPI
    schema describes it)."""

    model_label: str
    name: str
    field: Callable[[], Any]


_sections: list[DetailSection] = []
_fields: list[ExtraField] = []


def register_detail_section(model_label: str, template: str, context: Callable[[Any, Any], dict[str, Any] | None],
                            *, key: str | None = None, order: int = 100) -> None:
    """Show `template` on the detail page of `model_label` ("incidents.incident"); once per key."""
    section = DetailSection(model_label.lower(), key or template, template, context, order)
    if all((s.model_label, s.key) != (section.model_label, section.key) for s in _sections):
        _sections.append(section)


def register_extra_field(model_label: str, name: str, field: Callable[[], Any]) -> None:
    """Add the field `field()` as `name` to the detail serializer of `model_label`; once per name. Register in an
    app's ready(): a detail serializer works out its fields once per class, on its first use."""
    entry = ExtraField(model_label.lower(), name, field)
    if all((f.model_label, f.name) != (entry.model_label, entry.name) for f in _fields):
        _fields.append(entry)


def detail_sections(obj: Model, user: Any) -> list[SafeString]:
    """The registered sections of this object's detail page, rendered, in order."""
    label = obj._meta.label_lower
    rendered = []
    for section in sorted((s for s in _sections if s.model_label == label), key=lambda s: s.order):
        context = section.context(obj, user)
        if context is not None:
            rendered.append(render_to_string(section.template, {"object": obj, "user": user, **context}))
    return rendered


def extra_fields(model: type[Model]) -> dict[str, Any]:
    """Fresh instances of the fields registered for a model's detail serializer, by name."""
    label = model._meta.label_lower
    return {f.name: f.field() for f in _fields if f.model_label == label}
