"""The filters of the problem and action-item lists of the API: state, source, service, CI, category, team,
owner, linked incident, overdue actions and free text. Invalid values are errors (400), never ignored."""

import django_filters
from django.db.models import Exists, OuterRef, Q, QuerySet
from django.utils.translation import gettext_lazy as _

from incidents.models import Category
from opscenter.core.filters import FilterSet
from opscenter.core.models import ConfigurationItem, Service, Team, User
from problems.choices import ActionState, Source, State
from problems.models import ActionItem, Problem, ProblemIncident

YES_NO = [("true", _("Yes")), ("false", _("No"))]


def _yes(value: str) -> bool:
    return value == "true"


class ProblemFilterSet(FilterSet):
    """What a list of problems can be narrowed by; visibility is applied before, by the view."""

    state = django_filters.MultipleChoiceFilter(choices=State.choices, label=_("state"), distinct=False)
    source = django_filters.MultipleChoiceFilter(choices=Source.choices, label=_("source"), distinct=False)
    service = django_filters.ModelChoiceFilter(queryset=Service.objects.all(), label=_("service"))
    configuration_item = django_filters.ModelChoiceFilter(queryset=ConfigurationItem.objects.all(),
                                                          label=_("configuration item"))
    category = django_filters.ModelChoiceFilter(queryset=Category.objects.all(), to_field_name="code",
                                                label=_("category"))
    team = django_filters.ModelChoiceFilter(queryset=Team.objects.all(), label=_("team"))
    owner = django_filters.ModelChoiceFilter(queryset=User.objects.all(), label=_("owner"))
    incident = django_filters.NumberFilter(method="filter_incident", label=_("linked incident (id)"))
    overdue = django_filters.TypedChoiceFilter(choices=YES_NO, coerce=_yes, method="filter_overdue",
                                               label=_("has overdue actions"))
    q = django_filters.CharFilter(method="filter_text", label=_("search"),
                                  help_text=_("Number, title or description contains this text."))

    class Meta:
        model = Problem
        fields = ["state", "source", "service", "configuration_item", "category", "team", "owner"]

    def filter_incident(self, queryset: QuerySet[Problem], name: str, value: int) -> QuerySet[Problem]:
        # Through the link table, so that no DISTINCT is needed.
        return queryset.filter(pk__in=ProblemIncident.objects.filter(incident_id=value).values("problem_id"))

    def filter_overdue(self, queryset: QuerySet[Problem], name: str, value: bool) -> QuerySet[Problem]:
        late = Exists(ActionItem.objects.overdue().filter(problem=OuterRef("pk")))
        return queryset.filter(late if value else ~late)

    def filter_text(self, queryset: QuerySet[Problem], name: str, value: str) -> QuerySet[Problem]:
        text = value.strip()
        if not text:
            return queryset
        return queryset.filter(Q(number__icontains=text) | Q(title__icontains=text)
                               | Q(description__icontains=text))


class ActionItemFilterSet(FilterSet):
    """Action items by problem, owner, state, and overdue."""

    state = django_filters.MultipleChoiceFilter(choices=ActionState.choices, label=_("state"), distinct=False)
    overdue = django_filters.TypedChoiceFilter(choices=YES_NO, coerce=_yes, method="filter_overdue",
                                               label=_("overdue"))

    class Meta:
        model = ActionItem
        fields = ["problem", "owner", "state"]

    def filter_overdue(self, queryset: QuerySet[ActionItem], name: str, value: bool) -> QuerySet[ActionItem]:
        late = ActionItem.objects.overdue().values("pk")
        return queryset.filter(pk__in=late) if value else queryset.exclude(pk__in=late)
