"""The filters of the change API: state, type, category, risk, service, CI, implementer, requester, the planned
window and free text; votes by change. Invalid values are errors (400), never ignored."""

from datetime import date, datetime, time, timedelta

import django_filters
from django.db.models import Q, QuerySet
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from changes.choices import Category, ChangeType, Decision, RiskLevel, State
from changes.models import Change, ChangeVote
from opscenter.core.filters import FilterSet
from opscenter.core.models import ConfigurationItem, Service, User


def _day_start(day: date) -> datetime:
    """Midnight at the start of `day` in the site's time zone."""
    return timezone.make_aware(datetime.combine(day, time.min))


def _visible_changes(request) -> QuerySet[Change]:  # noqa: ANN001
    return Change.objects.visible_to(getattr(request, "user", None))


class ChangeFilterSet(FilterSet):
    """What a list of changes can be narrowed by; visibility is applied before, by the view."""

    state = django_filters.MultipleChoiceFilter(choices=State.choices, label=_("state"), distinct=False)
    type = django_filters.MultipleChoiceFilter(field_name="change_type", choices=ChangeType.choices,
                                               label=_("type"), distinct=False)
    category = django_filters.MultipleChoiceFilter(choices=Category.choices, label=_("category"), distinct=False)
    risk_level = django_filters.MultipleChoiceFilter(choices=RiskLevel.choices, label=_("risk level"),
                                                     distinct=False)
    service = django_filters.ModelChoiceFilter(queryset=Service.objects.all(), method="filter_service",
                                               label=_("affected service"))
    configuration_item = django_filters.ModelChoiceFilter(queryset=ConfigurationItem.objects.all(),
                                                          method="filter_configuration_item",
                                                          label=_("affected configuration item"))
    implementer = django_filters.ModelChoiceFilter(queryset=User.objects.all(), label=_("implementer"))
    requester = django_filters.ModelChoiceFilter(field_name="created_by", queryset=User.objects.all(),
                                                 label=_("requester"))
    planned_start_after = django_filters.DateFilter(method="filter_planned_after",
                                                    label=_("planned to start on or after"))
    planned_start_before = django_filters.DateFilter(method="filter_planned_before",
                                                     label=_("planned to start on or before"))
    q = django_filters.CharFilter(method="filter_text", label=_("search"),
                                  help_text=_("Number, title or content contains this text."))

    class Meta:
        model = Change
        fields = ["state", "type", "category", "risk_level", "service", "configuration_item", "implementer",
                  "requester"]

    # Through the link tables, so that a change on two matching rows is listed once (no DISTINCT).
    def filter_service(self, queryset: QuerySet[Change], name: str, value: Service) -> QuerySet[Change]:
        through = Change.services.through.objects.filter(service_id=value.pk)
        return queryset.filter(pk__in=through.values("change_id"))

    def filter_configuration_item(self, queryset: QuerySet[Change], name: str,
                                  value: ConfigurationItem) -> QuerySet[Change]:
        through = Change.configuration_items.through.objects.filter(configurationitem_id=value.pk)
        return queryset.filter(pk__in=through.values("change_id"))

    # Date bounds are whole local days: "before 2026-03-31" includes the 31st.
    def filter_planned_after(self, queryset: QuerySet[Change], name: str, value: date) -> QuerySet[Change]:
        return queryset.filter(planned_start__gte=_day_start(value))

    def filter_planned_before(self, queryset: QuerySet[Change], name: str, value: date) -> QuerySet[Change]:
        return queryset.filter(planned_start__lt=_day_start(value + timedelta(days=1)))

    def filter_text(self, queryset: QuerySet[Change], name: str, value: str) -> QuerySet[Change]:
        text = value.strip()
        if not text:
            return queryset
        return queryset.filter(Q(number__icontains=text) | Q(title__icontains=text)
                               | Q(description__icontains=text))


class ChangeVoteFilterSet(FilterSet):
    """Votes of one change (among those the caller may see), of a round, by decision."""

    change = django_filters.ModelChoiceFilter(queryset=_visible_changes, label=_("change"))
    decision = django_filters.ChoiceFilter(choices=Decision.choices, label=_("decision"))

    class Meta:
        model = ChangeVote
        fields = ["change", "round", "decision", "is_joint_review"]
