"""Filters of the kernel's resources, and the bound on the ids a request may name."""

from typing import Any

import django_filters
from django.core.exceptions import ValidationError
from django_filters.fields import ModelMultipleChoiceField
from django_filters.rest_framework import DjangoFilterBackend

from opscenter.core.models import ConfigurationItem, Notification, Service

# Primary keys are BigAutoFields, signed 64-bit integers. A larger number from a request names no row;
# SQLite cannot even bind it (OverflowError, a 500), so it is refused as an invalid value first.
ID_MAX = 2**63 - 1


class FilterBackend(DjangoFilterBackend):
    """django-filter's backend, which leaves a list alone when the request names none of its filters.

    With every field blank a filterset validates and hands its queryset back unchanged; building it and its
    form was a tenth of an unfiltered list's work. A query parameter names a filter when its name begins
    with the filter's (widgets with several inputs add suffixes), so any parameter that could filter still
    goes through the filterset and its validation."""

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


class ConfigurationItemFilterSet(django_filters.FilterSet):
    """Configuration items by type, status, owner team, and the services they carry."""

    services = IdMultipleChoiceFilter(queryset=Service.objects.all())

    class Meta:
        model = ConfigurationItem
        fields = ["ci_type", "status", "owner_team", "services"]


class NotificationFilterSet(django_filters.FilterSet):
    """A user's notifications by kind (`event`), by ticket number and unread."""

    unread = django_filters.BooleanFilter(field_name="read_at", lookup_expr="isnull", label="unread")

    class Meta:
        model = Notification
        fields = ["event", "ticket", "unread"]
