"""The filters of the incident list, shared by the API and the pages: state, priority, classification,
ownership, major, date ranges and free text. Invalid values are errors (400), never ignored."""

from datetime import date, datetime, time, timedelta

import django_filters
from django.db.models import Q, QuerySet
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from incidents.choices import Priority, State
from incidents.models import Category, Incident
from opscenter.core.filters import FilterSet
from opscenter.core.models import ConfigurationItem, Department, Service, Team, User

NONE = "none"

# "true"/"false" only: anything else is an error, not silently "no filter".
YES_NO = [("true", _("Yes")), ("false", _("No"))]


def _day_start(day: date) -> datetime:
    """Midnight at the start of `day` in the site's time zone (so the created_at index is used)."""
    return timezone.make_aware(datetime.combine(day, time.min))


class IncidentFilterSet(FilterSet):
    """What a list of incidents can be narrowed by; visibility is applied before, by the selector."""

    # distinct=False: these filter the incident's own columns, and a SELECT DISTINCT over every column of
    # the row (the filter's default) made the filtered list cost ~50 ms on 100,000 incidents.
    state = django_filters.MultipleChoiceFilter(choices=State.choices, label=_("state"), distinct=False)
    # "none": not classified yet (no priority, no category, no service), as the summary counts them.
    priority = django_filters.MultipleChoiceFilter(choices=[*Priority.choices, (NONE, _("not classified yet"))],
                                                   method="filter_priority", label=_("priority"), distinct=False)
    category = django_filters.ModelChoiceFilter(queryset=Category.objects.all(), to_field_name="code",
                                                null_label=_("none"), null_value=NONE, label=_("category"))
    service = django_filters.ModelChoiceFilter(queryset=Service.objects.all(), null_label=_("none"),
                                               null_value=NONE, label=_("service"))
    configuration_item = django_filters.ModelChoiceFilter(queryset=ConfigurationItem.objects.all(),
                                                          label=_("configuration item"))
    team = django_filters.ModelChoiceFilter(queryset=Team.objects.all(), label=_("team"))
    assignee = django_filters.ModelChoiceFilter(queryset=User.objects.all(), label=_("assignee"))
    department = django_filters.ModelChoiceFilter(queryset=Department.objects.all(), label=_("department"))
    is_major = django_filters.TypedChoiceFilter(choices=YES_NO, coerce=lambda value: value == "true",
                                                label=_("major incident"))
    created_after = django_filters.DateFilter(method="filter_created_after", label=_("reported on or after"))
    created_before = django_filters.DateFilter(method="filter_created_before", label=_("reported on or before"))
    occurred_after = django_filters.DateFilter(method="filter_occurred_after", label=_("occurred on or after"))
    occurred_before = django_filters.DateFilter(method="filter_occurred_before", label=_("occurred on or before"))
    q = django_filters.CharFilter(method="filter_text", label=_("search"),
                                  help_text=_("Number, title, phenomenon or caller name contains this text."))

    class Meta:
        model = Incident
        fields = ["state", "priority", "category", "service", "configuration_item", "team", "assignee", "department",
                  "is_major"]

    def filter_priority(self, queryset: QuerySet[Incident], name: str, value: list[str]) -> QuerySet[Incident]:
        if not value:
            return queryset
        return queryset.filter(priority__in=["" if v == NONE else v for v in value])

    # Date bounds are whole local days: "before 2026-03-31" includes the 31st.
    def filter_created_after(self, queryset: QuerySet[Incident], name: str, value: date) -> QuerySet[Incident]:
        return queryset.filter(created_at__gte=_day_start(value))

    def filter_created_before(self, queryset: QuerySet[Incident], name: str, value: date) -> QuerySet[Incident]:
        return queryset.filter(created_at__lt=_day_start(value + timedelta(days=1)))

    def filter_occurred_after(self, queryset: QuerySet[Incident], name: str, value: date) -> QuerySet[Incident]:
        return queryset.filter(occurred_at__gte=_day_start(value))

    def filter_occurred_before(self, queryset: QuerySet[Incident], name: str, value: date) -> QuerySet[Incident]:
        return queryset.filter(occurred_at__lt=_day_start(value + timedelta(days=1)))

    def filter_text(self, queryset: QuerySet[Incident], name: str, value: str) -> QuerySet[Incident]:
        text = value.strip()
        if not text:
            return queryset
        return queryset.filter(Q(number__icontains=text) | Q(title__icontains=text)
                               | Q(description__icontains=text) | Q(caller_name__icontains=text))
