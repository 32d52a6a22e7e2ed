"""Filters of the roster and shift endpoints: team, state, person, role and a time range. Invalid values are
errors (400), never ignored."""

from datetime import date, datetime

import django_filters
from django import forms
from django.core.exceptions import ValidationError
from django.db.models import QuerySet
from django.utils import timezone
from django.utils.dateparse import parse_date, parse_datetime
from django.utils.translation import gettext_lazy as _

from duty.choices import RosterState
from duty.models import DUTY_ROLES, DutyPolicy, Roster, Shift
from duty.periods import LONGEST_SHIFT, day_start
from opscenter.core.filters import FilterSet
from opscenter.core.models import Team, User


class MomentField(forms.CharField):
    """A date (local midnight of the duty policy's zone) or an ISO 8601 date-time (without an offset: the policy's
    zone), as an aware date-time."""

    def to_python(self, value: str) -> datetime | None:
        text = (super().to_python(value) or "").strip()
        if not text:
            return None
        try:
            moment = parse_datetime(text)
            day = None if moment else parse_date(text)
        except ValueError:
            moment = day = None
        if moment is None and day is None:
            raise ValidationError(_("Give a date (2026-12-01) or a date and time (2026-12-01T08:00+08:00)."),
                                  code="invalid")
        zone = DutyPolicy.current().zone
        if moment is None:
            return day_start(day, zone) if isinstance(day, date) else None
        return moment if timezone.is_aware(moment) else timezone.make_aware(moment, zone)


class MomentFilter(django_filters.Filter):
    field_class = MomentField


class RosterFilterSet(FilterSet):
    """Rosters of a team, in a state, or covering a day."""

    team = django_filters.ModelChoiceFilter(queryset=Team.objects.all(), label=_("team"))
    state = django_filters.ChoiceFilter(choices=RosterState.choices, label=_("state"))
    day = django_filters.DateFilter(method="filter_day", label=_("covering the day"))

    class Meta:
        model = Roster
        fields = ["team", "state", "day"]

    def filter_day(self, queryset: QuerySet[Roster], name: str, value: date) -> QuerySet[Roster]:
        return queryset.filter(first_day__lte=value, last_day__gte=value)


class ShiftFilterSet(FilterSet):
    """Shifts of a team, a person, a roster or a role, on duty at some moment between `from` and `to` (a date is
    local midnight in the duty policy's zone: `to=2026-12-02` ends as the 2nd begins)."""

    team = django_filters.ModelChoiceFilter(queryset=Team.objects.all(), label=_("team"))
    person = django_filters.ModelChoiceFilter(field_name="user", queryset=User.objects.all(), label=_("person"))
    roster = django_filters.ModelChoiceFilter(queryset=Roster.objects.all(), label=_("roster"))
    role = django_filters.ChoiceFilter(choices=DUTY_ROLES, label=_("role"))
    # `from` is a Python keyword: the filter is declared under another name and renamed below.
    from_ = MomentFilter(method="filter_from", label=_("on duty after"))
    to = MomentFilter(method="filter_to", label=_("on duty before"))

    class Meta:
        model = Shift
        fields = ["team", "person", "roster", "role"]

    @classmethod
    def get_filters(cls) -> dict:
        filters = super().get_filters()
        filters["from"] = filters.pop("from_")
        return filters

    def filter_from(self, queryset: QuerySet[Shift], name: str, value: datetime) -> QuerySet[Shift]:
        return queryset.filter(end__gt=value)

    def filter_to(self, queryset: QuerySet[Shift], name: str, value: datetime) -> QuerySet[Shift]:
        return queryset.filter(start__lt=value)

    def filter_queryset(self, queryset: QuerySet[Shift]) -> QuerySet[Shift]:
        queryset = super().filter_queryset(queryset)
        start = self.form.cleaned_data.get("from")
        if start is not None:  # read the start index over a range, not the whole history
            queryset = queryset.filter(start__gt=start - LONGEST_SHIFT)
        return queryset
