"""Forms of the kernel's pages, and the form pieces every process app's pages use: Tabler-styled forms, date
inputs, a service's refusals put on the form, one form per transition, comments and files."""

from collections.abc import Iterator
from typing import Any, ClassVar

from django import forms
from django.contrib.auth.forms import AuthenticationForm
from django.core.cache import cache
from django.db import models
from django.forms.models import ModelChoiceIterator
from django.forms.renderers import Jinja2
from django.utils.html import format_html, format_html_join
from django.utils.translation import get_language
from django.utils.translation import gettext_lazy as _

from opscenter.core import roles
from opscenter.core.caching import generation, watch
from opscenter.core.models import User
from opscenter.core.roles import has_role

DATETIME_LOCAL = "%Y-%m-%dT%H:%M"


class SignInForm(AuthenticationForm):
    username = forms.CharField(label=_("Username"), widget=forms.TextInput(attrs={
        "autofocus": True, "class": "form-control", "autocomplete": "username"}))
    password = forms.CharField(label=_("Password"), strip=False, widget=forms.PasswordInput(attrs={
        "class": "form-control", "autocomplete": "current-password"}))


class PreferencesForm(forms.Form):
    language = forms.ChoiceField(label=_("Language"), required=False, widget=forms.Select(attrs={
        "class": "form-select"}), help_text=_("Pages and the notifications you receive (in-app and e-mail)."))

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        from django.conf import settings
        from django.utils.translation import get_language_info

        super().__init__(*args, **kwargs)
        default = get_language_info(settings.LANGUAGE_CODE)["name_local"]
        self.fields["language"].choices = [
            ("", _("Site default (%(language)s)") % {"language": default}),
            *[(code, get_language_info(code)["name_local"]) for code, _name in settings.LANGUAGES]]


# --- Styling, inputs and refusals --------------------------------------------------------------------------


class StyledForm(forms.Form):
    """Gives widgets Tabler's classes and marks fields with errors as invalid. Its widgets are drawn by Django's
    Jinja2 form renderer (Django's own widget templates, written for Jinja2): the same markup as its default
    renderer, in a third of the time for a page of selects and transition forms."""

    default_renderer = Jinja2()

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        style_widgets(self)

    def add_error(self, field: str | None, error: Any) -> None:
        super().add_error(field, error)
        mark_invalid(self)


def style_widgets(form: forms.BaseForm) -> None:
    for field in form.fields.values():
        widget = field.widget
        if isinstance(widget, forms.CheckboxInput):
            css = "form-check-input"
        elif isinstance(widget, forms.Select):
            css = "form-select"
        else:
            css = "form-control"
        widget.attrs["class"] = f"{widget.attrs.get('class', '')} {css}".strip()
        if isinstance(widget, forms.Textarea):
            widget.attrs.setdefault("rows", 3)


def mark_invalid(form: forms.BaseForm) -> None:
    for name in form.errors:
        if name in form.fields and "is-invalid" not in form.fields[name].widget.attrs.get("class", ""):
            form.fields[name].widget.attrs["class"] += " is-invalid"


def apply_service_errors(form: forms.BaseForm, detail: Any) -> None:
    """Put a service's InvalidInput detail on the form: on the field it names, else on the form."""
    if not form.is_bound or not hasattr(form, "cleaned_data"):
        form.is_valid()
    if isinstance(detail, dict):
        for key, messages in detail.items():
            messages = messages if isinstance(messages, (list, tuple)) else [messages]
            target = key if key in form.fields else None
            for message in messages:
                form.add_error(target, str(message))
    else:
        for message in detail if isinstance(detail, (list, tuple)) else [detail]:
            form.add_error(None, str(message))


class DateTimeLocalInput(forms.DateTimeInput):
    input_type = "datetime-local"

    def __init__(self, attrs: dict[str, Any] | None = None) -> None:
        super().__init__(attrs, format=DATETIME_LOCAL)


class DateInput(forms.DateInput):
    input_type = "date"

    def __init__(self, attrs: dict[str, Any] | None = None) -> None:
        super().__init__(attrs, format="%Y-%m-%d")


class SearchSelectMultiple(forms.SelectMultiple):
    """A choice of several among many rows (hundreds of incidents), made by search instead of a long list: only
    the chosen rows are drawn, each removable; typing asks `search_url` (`?q=`, answering JSON
    `{"results": [{"id", "text"}]}`) and a result picked is added (static/js/search-select.js). Without script
    the chosen rows are still sent back."""

    class Media:
        js = ("js/search-select.js",)

    def __init__(self, search_url: Any, attrs: dict[str, Any] | None = None) -> None:
        super().__init__(attrs)
        self.search_url = search_url

    def chosen(self, value: Any) -> list[tuple[str, str]]:
        """(value, label) of the chosen rows, read by primary key: the other rows are never loaded."""
        wanted = [str(v) for v in value or [] if v not in ("", None)]
        if not wanted:
            return []  # an empty form reads no row
        iterator = self.choices
        if not hasattr(iterator, "queryset"):
            return [(str(v), str(label)) for v, label in iterator if str(v) in wanted]
        field = iterator.field
        return [(str(field.prepare_value(obj)), field.label_from_instance(obj))
                for obj in iterator.queryset.filter(pk__in=wanted)]

    def render(self, name: str, value: Any, attrs: dict[str, Any] | None = None, renderer: Any = None) -> str:
        attrs = self.build_attrs(self.attrs, attrs)
        input_id = attrs.get("id") or f"id_{name}"
        chosen = self.chosen(self.format_value(value))
        return format_html(
            '<div class="search-select" data-search-url="{url}" data-empty="{empty}" data-remove="{remove}">'
            '<select name="{name}" id="{id}_chosen" multiple hidden>{options}</select>'
            '<div class="search-select-chips d-flex flex-wrap gap-1">{chips}</div>'
            '<input type="search" id="{id}" class="{css}" placeholder="{placeholder}" autocomplete="off" '
            'role="combobox" aria-autocomplete="list" aria-expanded="false" aria-controls="{id}_results">'
            '<div class="list-group search-select-results" id="{id}_results" role="listbox"></div></div>',
            url=str(self.search_url), empty=_("Nothing found."), remove=_("Remove"), name=name, id=input_id,
            css=attrs.get("class", "form-control").replace("form-select", "form-control"),
            placeholder=attrs.get("placeholder", _("Search by number or title")),
            options=format_html_join("", '<option value="{}" selected>{}</option>', chosen),
            chips=format_html_join("", '<span class="badge bg-blue-lt search-select-chip" data-value="{}">{}'
                                   '<button type="button" class="search-select-remove" aria-label="{}">×</button>'
                                   '</span>', ((v, label, _("Remove")) for v, label in chosen)))


def textarea(rows: int = 3) -> forms.Textarea:
    return forms.Textarea(attrs={"rows": rows})


class UserChoiceField(forms.ModelChoiceField):
    def label_from_instance(self, obj: User) -> str:
        extra = obj.department.name if getattr(obj, "department", None) else obj.username
        return f"{obj} ({extra})"


class EngineerChoiceField(forms.ModelChoiceField):
    def label_from_instance(self, obj: User) -> str:
        teams = ", ".join(team.name for team in obj.teams.all())
        return f"{obj} · {teams}" if teams else str(obj)


class CachedChoiceIterator(ModelChoiceIterator):
    """The choices of a `ReferenceChoiceField`: its queryset's (value, label) pairs read from Django's cache,
    read from the database on a miss."""

    def pairs(self) -> list[tuple[str, str]]:
        field = self.field
        key = f"choices:{field.cache_key}:{get_language()}:{generation(self.queryset.model)}"
        pairs = cache.get(key)
        if pairs is None:
            pairs = [(str(value), str(label)) for value, label in super().__iter__() if value != ""]
            cache.set(key, pairs, timeout=field.cache_seconds)
        return pairs

    def __iter__(self) -> Iterator[tuple[Any, str]]:
        if self.field.empty_label is not None:
            yield ("", self.field.empty_label)
        yield from self.pairs()

    def __len__(self) -> int:
        return len(self.pairs()) + (self.field.empty_label is not None)

    def __bool__(self) -> bool:
        return self.field.empty_label is not None or bool(self.pairs())


class ReferenceChoiceField(forms.ModelChoiceField):
    """A choice of reference data (teams, services, categories: edited now and then in the admin, listed on
    every queue's filter bar): Django's `ModelChoiceField`, its list kept in Django's cache under `cache_key`
    and the reader's language until a row of the model is saved or deleted. Choosing still reads the chosen
    row through the queryset (validation is Django's own).

    What it saves: the incident queue's filter bar read three lists (categories, services, teams), one statement
    each, on every page (0.3–0.5 ms each on the benchmark's database, December 2026). A list that depends on who
    asks must not use it (the key names the list, not the user); `opscenter/core/tests/test_forms.py` compares
    its choices with `ModelChoiceField`'s."""

    iterator = CachedChoiceIterator

    def __init__(self, queryset: models.QuerySet, *, cache_key: str, cache_seconds: int = 3600,
                 **kwargs: Any) -> None:
        self.cache_key, self.cache_seconds = cache_key, cache_seconds
        watch(queryset.model)
        super().__init__(queryset, **kwargs)


# --- One form per transition -------------------------------------------------------------------------------


class QueueFilterForm(StyledForm):
    """The filter bar and sort order of a ticket queue: declare the fields, `sorts` (key → order_by terms) and
    `default_sort`, and override `filter`. A value that does not validate drops only its own filter, so a bad
    link shows the queue rather than an error."""

    sorts: ClassVar[dict[str, tuple[Any, ...]]] = {}
    default_sort = "-created"

    def values(self) -> dict[str, Any]:
        """The valid filter values (a bad value drops only its own filter)."""
        if not self.is_bound:
            return {}
        self.is_valid()
        return {k: v for k, v in self.cleaned_data.items() if v not in (None, "")}

    def filter(self, qs: models.QuerySet) -> models.QuerySet:
        return qs

    def sort_key(self) -> str:
        return self.values().get("sort") or self.default_sort

    def order(self, qs: models.QuerySet) -> models.QuerySet:
        return qs.order_by(*self.sorts[self.sort_key()])

    @property
    def active(self) -> bool:
        return any(k != "sort" for k in self.values())


def choice_order(field: str, values: list[str]) -> models.Case:
    """An ordering by the position of a choice in `values` (a state or a priority in the policy's order)."""
    return models.Case(*[models.When(**{field: value}, then=models.Value(i)) for i, value in enumerate(values)],
                       default=models.Value(len(values)), output_field=models.IntegerField())


class TransitionForm(StyledForm):
    """The input one transition needs; `transition_data()` is what the model's transition takes.

    `obj` is the ticket, `user` who acts, `context` what the page worked out for its forms (the schedule
    check, the children a resolution would resolve …)."""

    #: Fields whose values become the transition's keyword arguments (the rest are the comment).
    data_fields: tuple[str, ...] = ()
    submit_label = _("Confirm")

    def __init__(self, *args: Any, obj: models.Model, user: Any, context: dict[str, Any] | None = None,
                 **kwargs: Any) -> None:
        self.obj, self.user, self.context = obj, user, context or {}
        super().__init__(*args, **kwargs)

    def transition_data(self) -> dict[str, Any]:
        return {name: self.cleaned_data.get(name) for name in self.data_fields}

    def comment(self) -> str:
        return (self.cleaned_data.get("comment") or "").strip()


class ConfirmForm(TransitionForm):
    """A transition that needs no data: a confirmation and an optional comment."""

    confirm = forms.BooleanField(label=_("I confirm"), required=True)
    comment = forms.CharField(label=_("Comment (optional)"), required=False, widget=textarea(2))


class ReasonForm(TransitionForm):
    """A transition whose reason is its (required) comment."""

    comment = forms.CharField(label=_("Reason"), widget=textarea(3))


# --- Notes and files ---------------------------------------------------------------------------------------


class CommentForm(StyledForm):
    body = forms.CharField(label=_("Comment"), widget=textarea(3), max_length=10000)
    is_internal = forms.BooleanField(label=_("Internal note (not shown to the department)"), required=False)

    def __init__(self, *args: Any, user: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        if not has_role(user, *roles.IT_STAFF):
            del self.fields["is_internal"]


class AttachmentForm(StyledForm):
    file = forms.FileField(label=_("File"))
