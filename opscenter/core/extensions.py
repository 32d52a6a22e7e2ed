"""What apps add to other apps' pages, API and records without those apps importing them: sections of a detail
page (a template and its context) and read-only fields of a detail serializer, per model; the lines a shift handover
carries over (open incidents, changes in progress …); and who is paged first about a team's urgent ticket."""

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import datetime
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


# --- Panels of a form page ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class FormSection:
    """A panel beside a form (suggestions as one types …): `template` rendered with what `context(user)` returns;
    a context of None leaves it out."""

    form_key: str
    key: str
    template: str
    context: Callable[[Any], dict[str, Any] | None]
    order: int = 100


_form_sections: list[FormSection] = []


def register_form_section(form_key: str, template: str, context: Callable[[Any], dict[str, Any] | None], *,
                          key: str | None = None, order: int = 100) -> None:
    """Show `template` beside the form named `form_key` ("incidents.report"); once per key."""
    section = FormSection(form_key, key or template, template, context, order)
    if all((s.form_key, s.key) != (section.form_key, section.key) for s in _form_sections):
        _form_sections.append(section)


def form_sections(form_key: str, user: Any) -> list[SafeString]:
    """The registered panels of a form page, rendered, in order."""
    rendered = []
    for section in sorted((s for s in _form_sections if s.form_key == form_key), key=lambda s: s.order):
        context = section.context(user)
        if context is not None:
            rendered.append(render_to_string(section.template, {"user": user, **context}))
    return rendered


# --- What a shift handover carries over (交接班) ----------------------------------------------------------------


@dataclass(frozen=True)
class HandoverEntry:
    """One line a handover carries over to the next shift (an open incident, a change in progress, an alert, an
    inspection finding): its reference (a ticket number), title, status and the address of its page. The status is
    a state's label (`State.HANDLING.label`): the handover keeps it untranslated and pages show it in the reader's
    language. The handover keeps a copy of each line, so that it reads as it was handed over."""

    reference: str
    title: str
    status: Any = ""
    url: str = ""


@dataclass(frozen=True)
class HandoverSource:
    """What an app carries over in handovers: `provider(team, shift_start, shift_end, user)` returns the entries
    for the outgoing person (`user`) of `team`'s shift from `shift_start` to `shift_end`, those the user may see,
    most pressing first."""

    key: str
    label: Any
    provider: Callable[[Any, datetime, datetime, Any], Iterable[HandoverEntry]]
    order: int = 100


_handover_sources: list[HandoverSource] = []


def register_handover_items(key: str, provider: Callable[[Any, datetime, datetime, Any], Iterable[HandoverEntry]],
                            *, label: Any = "", order: int = 100) -> None:
    """Have every handover written from now on carry `provider`'s entries under `key` (an app's name: "incidents",
    "changes"), shown under `label`; once per key. Register in the app's ready(): the duty app never imports the
    apps that fill its handovers."""
    if all(source.key != key for source in _handover_sources):
        _handover_sources.append(HandoverSource(key, label or key, provider, order))


def handover_sources() -> list[HandoverSource]:
    """The registered sources of handover entries, in their order."""
    return sorted(_handover_sources, key=lambda source: (source.order, source.key))


def handover_entries(team: Any, shift_start: datetime, shift_end: datetime, user: Any
                     ) -> list[tuple[HandoverSource, list[HandoverEntry]]]:
    """Each source with the entries it carries over for this shift (a source with none is left out)."""
    found = []
    for source in handover_sources():
        entries = list(source.provider(team, shift_start, shift_end, user))
        if entries:
            found.append((source, entries))
    return found
# --- Paging ----------------------------------------------------------------------------------------------
# Who is paged first about an urgent ticket of a team: an app that knows who is on duty registers a resolver,
# `resolver(team, at)` → the people to page first (a list of users), or None when it cannot say (no roster for
# the team then); the paging app pages everyone it pages today when no resolver answers.

PagingResolver = Callable[[Any, Any], list[Any] | None]

_paging_resolvers: list[PagingResolver] = []


def register_paging_resolver(resolver: PagingResolver) -> None:
    """Have `resolver(team, at)` name the first wave of a team's urgent pages; once per resolver."""
    if resolver not in _paging_resolvers:
        _paging_resolvers.append(resolver)


def unregister_paging_resolver(resolver: PagingResolver) -> None:
    """Forget a resolver (tests that page as an installation without it)."""
    if resolver in _paging_resolvers:
        _paging_resolvers.remove(resolver)


def paging_first_wave(team: Any, at: Any) -> list[Any] | None:
    """The people to page first about an urgent ticket of `team` at `at`: the first registered resolver's answer
    that is not None; None when no resolver is registered or none can say (page everyone, as without them)."""
    for resolver in _paging_resolvers:
        wave = resolver(team, at)
        if wave is not None:
            return list(wave)
    return None
