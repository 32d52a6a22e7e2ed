"""Filters of the kernel's resources, and the bound on the ids a request may name."""

from typing import Any

import django_filters
from django.core.exceptions import FieldDoesNotExist, ValidationError
from django.db.backends.base.operations import BaseDatabaseOperations
from django.db.models import Field
from django_filters.fields import ModelChoiceField, ModelMultipleChoiceField
from django_filters.rest_framework import DjangoFilterBackend
from django_filters.rest_framework import FilterSet as RestFilterSet
from django_filters.utils import get_model_field

from opscenter.core.models import ConfigurationItem, Notification, Service

# Primary keys are BigAutoFields, signed 64-bit integers. A larger number from a request names no row;
# SQLite cannot even bind it (OverflowError, a 500), so it is refused as an invalid value first.
ID_MAX = 2**63 - 1


def integer_bounds(field: Field | None) -> tuple[int, int] | None:
    """The values an integer column holds (a key: its target's), as PostgreSQL declares them (SQLite holds
    more, so both refuse the same values); None for any other column."""
    while field is not None and field.is_relation and getattr(field, "target_field", None) is not None:
        field = field.target_field
    if field is None or not hasattr(field, "get_internal_type"):
        return None
    return BaseDatabaseOperations.integer_field_ranges.get(field.get_internal_type())


class BoundedModelChoiceField(ModelChoiceField):
    """One record by key; a number the key's column cannot hold is an invalid choice (400), like one that
    matches no record, instead of a query that fails."""

    def to_python(self, value: Any) -> Any:
        if value not in self.empty_values and not (self.null_label is not None and value == self.null_value):
            model = self.queryset.model
            try:
                bounds = integer_bounds(model._meta.get_field(self.to_field_name) if self.to_field_name
                                        else model._meta.pk)
            except FieldDoesNotExist:
                bounds = None
            try:
                number = int(str(value))
            except ValueError:
                number = None  # not a number: the parent refuses it on an integer key
            if bounds and number is not None and not bounds[0] <= number <= bounds[1]:
                raise ValidationError(self.error_messages["invalid_choice"], code="invalid_choice")
        return super().to_python(value)


class FilterSet(django_filters.FilterSet):
    """The base of every filterset: a number filter on an integer column refuses (400) what the column cannot
    hold, and a record filter a key its column cannot hold, so the database never sees such a number."""

    @classmethod
    def get_filters(cls) -> dict[str, Any]:
        filters = super().get_filters()
        model = cls._meta.model
        for name, spec in filters.items():
            if type(spec).field_class is ModelChoiceField:
                spec.field_class = BoundedModelChoiceField
            elif type(spec).field_class is ModelMultipleChoiceField:
                spec.field_class = IdMultipleChoiceField
            elif isinstance(spec, django_filters.NumberFilter) and model is not None and spec.lookup_expr in (
                    "exact", "gt", "gte", "lt", "lte"):
                bounds = integer_bounds(get_model_field(model, spec.field_name or name))
                if bounds:
                    spec.extra.setdefault("min_value", bounds[0])
                    spec.extra.setdefault("max_value", bounds[1])
        return filters


class ApiFilterSet(FilterSet, RestFilterSet):
    """The base of the filtersets the API builds from a view's filterset_fields."""


class FilterBackend(DjangoFilterBackend):
    """django-filter's backend, which leaves a list alone when the request names none of its filters.

    With every field blank a filterset validates and hands its queryset back unchanged; building it and its
    form was a tenth of an unfiltered list's work. A query parameter names a filter when its name begins
    with the filter's (widgets with several inputs add suffixes), so any parameter that could filter still
    goes through the filterset and its validation. Filtersets it builds from filterset_fields bound their
    numbers (ApiFilterSet)."""

    filterset_base = ApiFilterSet

    def filter_queryset(self, request: Any, queryset: Any, view: Any) -> Any:
        filterset_class = self.get_filterset_class(view, queryset)
        if filterset_class is None or not names_a_filter(request.query_params, filterset_class.base_filters):
            return queryset
        return super().filter_queryset(request, queryset, view)


def names_a_filter(params: Any, filters: dict[str, Any]) -> bool:
    return any(key.startswith(name) for key in params for name in filters)


class IdMultipleChoiceField(ModelMultipleChoiceField):
    """Several records by id; an id no primary key can hold is an invalid choice (400), like one that
    matches no record, instead of a query that fails."""

    def _check_values(self, value: Any) -> Any:
        for pk in value:
            try:
                number = int(str(pk))
            except ValueError:
                continue  # not a number: the parent refuses it
            if not 1 <= number <= ID_MAX:
                raise ValidationError(self.error_messages["invalid_choice"], code="invalid_choice",
                                      params={"value": pk})
        return super()._check_values(value)


class IdMultipleChoiceFilter(django_filters.ModelMultipleChoiceFilter):
    field_class = IdMultipleChoiceField


class ConfigurationItemFilterSet(FilterSet):
    """Configuration items by type, status, owner team, and the services they carry."""

    services = IdMultipleChoiceFilter(queryset=Service.objects.all())

    class Meta:
        model = ConfigurationItem
        fields = ["ci_type", "status", "owner_team", "services"]


class NotificationFilterSet(FilterSet):
    """A user's notifications by kind (`event`), by ticket number and unread."""

    unread = django_filters.BooleanFilter(field_name="read_at", lookup_expr="isnull", label="unread")

    class Meta:
        model = Notification
        fields = ["event", "ticket", "unread"]
