"""Read queries of service levels shared by pages and API, with the visibility rule applied: a department
user sees only their own department's figures, breaches and published evaluations; IT staff, supervisors
and auditors see every department."""

import re
from datetime import date
from typing import Any

from django.db.models import QuerySet
from django.http import Http404

from opscenter.core import roles
from opscenter.core.models import Department
from sla import metrics
from sla.choices import EvaluationState
from sla.models import Breach, Evaluation, Outage, has_unexplained_breaches

MONTH = re.compile(r"^(\d{4})-(\d{2})$")


def sees_all_departments(user: Any) -> bool:
    """IT staff, supervisors and auditors read every department's service levels."""
    return bool(user.is_authenticated and (user.is_superuser or roles.has_role(user, *roles.IT_STAFF, roles.AUDITOR)))


def visible_department_ids(user: Any) -> list[int] | None:
    """The departments whose figures the user may read: None for all, else the user's own (or none)."""
    if sees_all_departments(user):
        return None
    if roles.has_role(user, roles.DEPARTMENT_USER) and user.department_id:
        return [user.department_id]
    return []


def department_list(*, user: Any) -> QuerySet[Department]:
    ids = visible_department_ids(user)
    qs = Department.objects.filter(is_active=True).order_by("name", "pk")
    return qs if ids is None else Department.objects.filter(pk__in=ids).order_by("name", "pk")


def department_get(*, user: Any, pk: int) -> Department:
    """A department the user may read, else 404 (another department does not exist for them)."""
    ids = visible_department_ids(user)
    if ids is not None and pk not in ids:
        raise Http404
    try:
        return Department.objects.get(pk=pk)
    except Department.DoesNotExist:
        raise Http404 from None


def parse_month(text: str | None, default: date | None = None) -> date | None:
    """'YYYY-MM' as the month's first day; None when it is not a month (the default when empty)."""
    if not text:
        return default
    match = MONTH.match(text.strip())
    if not match or not 1 <= int(match.group(2)) <= 12 or int(match.group(1)) < 1970:
        return None
    return date(int(match.group(1)), int(match.group(2)), 1)


def evaluation_list(*, user: Any) -> QuerySet[Evaluation]:
    """Evaluations the user may read: department users only their department's published ones."""
    qs = (Evaluation.objects.select_related("department", "published_by").order_by("-month", "department__name")
          .annotate(has_unexplained_breaches=has_unexplained_breaches()))
    ids = visible_department_ids(user)
    if ids is None:
        return qs
    return qs.filter(department_id__in=ids, state=EvaluationState.PUBLISHED)


def evaluation_get(*, user: Any, department_id: int, month: date) -> Evaluation | None:
    """The evaluation of a department and month if the user may read it (a draft only for IT staff)."""
    return evaluation_list(user=user).filter(department_id=department_id, month=month).first()


def breach_list(*, user: Any) -> QuerySet[Breach]:
    """Breaches the user may read, with their incident or service, department and owner."""
    qs = Breach.objects.select_related("incident", "service", "department", "action_owner", "explained_by")
    ids = visible_department_ids(user)
    return qs if ids is None else qs.filter(department_id__in=ids)


def outage_list(*, user: Any) -> QuerySet[Outage]:
    """Outages on incidents the user may see."""
    from incidents.models import Incident

    return (Outage.objects.filter(incident__in=Incident.objects.visible_to(user).values("pk"))
            .select_related("incident", "service", "recorded_by"))


def month_choices(count: int = metrics.TREND_MONTHS) -> list[date]:
    """The last months, newest first, for the month pickers."""
    return list(reversed(metrics.trend_months(metrics.current_month(), count)))
