"""Filters of the service level API: breaches, outages and evaluations by department, month and state."""

from typing import Any

import django_filters
from django import forms
from django.db.models import Q, QuerySet
from django.utils.translation import gettext_lazy as _

from opscenter.core.filters import ID_MAX, FilterSet
from sla import metrics, selectors
from sla.choices import BreachKind, EvaluationState, OutageKind
from sla.models import Breach, Evaluation, Outage


class MonthField(forms.CharField):
    """'YYYY-MM' as the month's first day; anything else is a 400."""

    def to_python(self, value: Any) -> Any:
        value = super().to_python(value)
        if not value:
            return None
        month = selectors.parse_month(value)
        if month is None:
            raise forms.ValidationError(_("Give the month as YYYY-MM."), code="invalid")
        return month


class MonthFilter(django_filters.Filter):
    field_class = MonthField


def _in_month(field: str):  # noqa: ANN202
    def method(queryset: QuerySet, name: str, value: Any) -> QuerySet:  # noqa: ARG001
        start, end = metrics.month_bounds(value)
        return queryset.filter(**{f"{field}__gte": start, f"{field}__lt": end})
    return method


IDS = {"min_value": 1, "max_value": ID_MAX}


class BreachFilterSet(FilterSet):
    department = django_filters.NumberFilter(field_name="department_id", **IDS)
    incident = django_filters.NumberFilter(field_name="incident_id", **IDS)
    kind = django_filters.ChoiceFilter(choices=BreachKind.choices)
    month = MonthFilter(method=_in_month("breached_at"))
    explained = django_filters.BooleanFilter(method="filter_explained")

    class Meta:
        model = Breach
        fields: list[str] = []

    def filter_explained(self, queryset: QuerySet, name: str, value: bool) -> QuerySet:  # noqa: ARG002
        missing = (Q(explanation="") | Q(corrective_action="") | Q(action_owner__isnull=True)
                   | Q(action_due__isnull=True))
        return queryset.exclude(missing) if value else queryset.filter(missing)


class OutageFilterSet(FilterSet):
    service = django_filters.NumberFilter(field_name="service_id", **IDS)
    incident = django_filters.NumberFilter(field_name="incident_id", **IDS)
    kind = django_filters.ChoiceFilter(choices=OutageKind.choices)
    month = MonthFilter(method="filter_month")

    class Meta:
        model = Outage
        fields: list[str] = []

    def filter_month(self, queryset: QuerySet, name: str, value: Any) -> QuerySet:  # noqa: ARG002
        """Outages overlapping the month."""
        start, end = metrics.month_bounds(value)
        return queryset.filter(started_at__lt=end).filter(Q(ended_at__isnull=True) | Q(ended_at__gt=start))


class EvaluationFilterSet(FilterSet):
    department = django_filters.NumberFilter(field_name="department_id", **IDS)
    state = django_filters.ChoiceFilter(choices=EvaluationState.choices)
    month = MonthFilter(field_name="month")

    class Meta:
        model = Evaluation
        fields: list[str] = []
