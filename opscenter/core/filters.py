"""Filters of the kernel's resources, and the bound on the ids a request may name."""

import copy
from typing import Any

import django_filters
from django.core.exceptions import ValidationError
from django.http import QueryDict
from django_filters.fields import ModelMultipleChoiceField
from django_filters.filters import FilterMethod
from django_filters.rest_framework import DjangoFilterBackend

from opscenter.core.models import ConfigurationItem, Service

# Primary keys are BigAutoFields, signed 64-bit integers. A larger number from a request names no row;
# SQLite cannot even bind it (OverflowError, a 500), so it is refused as an invalid value first.
ID_MAX = 2**63 - 1


class PrototypeFiltersMixin:
    """For a FilterSet whose filters and form depend on its class alone (not on the request): its form class is
    built once, and each filterset gets shallow copies of the class's filters instead of deep ones. Every list
    request builds a filterset; django-filter deep-copies each filter with its queryset and builds a form class
    from them every time (≈ 1 ms for the incident list's 14 filters).

    The forms still get their own fields (a form deep-copies its class's fields), and a filter that calls a
    method of the filterset is pointed at its own copy."""

    def __init__(self, data: Any = None, queryset: Any = None, *, request: Any = None, prefix: Any = None) -> None:
        if queryset is None:
            queryset = self._meta.model._default_manager.all()  # type: ignore[attr-defined]
        self.is_bound = data is not None
        self.data = data or QueryDict()
        self.queryset = queryset
        self.request = request
        self.form_prefix = prefix
        self.filters = {}
        for name, prototype in self.base_filters.items():  # type: ignore[attr-defined]
            filter_ = copy.copy(prototype)
            if isinstance(prototype.filter, FilterMethod):
                filter_.filter = FilterMethod(filter_)
            filter_.model = queryset.model
            filter_.parent = self
            self.filters[name] = filter_

    def get_form_class(self) -> type:
        cls = type(self)
        form_class = cls.__dict__.get("_form_class")
        if form_class is None:
            form_class = super().get_form_class()  # type: ignore[misc]
            cls._form_class = form_class
        return form_class


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
