"""Service level entries of the navigation bar and the home page."""

from typing import Any

from django.db.models import Count, Q
from django.http import HttpRequest
from django.utils.translation import gettext_lazy as _

from opscenter.core import roles
from opscenter.core.navigation import HomePanel, NavItem, register_nav, register_panel
from sla import metrics
from sla.choices import EvaluationState
from sla.models import Breach, Evaluation


def _department_month(request: HttpRequest) -> dict[str, Any]:
    """The user's department this month: targets met, MTTA, MTTR, breaches."""
    from sla.views import readable

    month = metrics.current_month()
    return {"month": month, "department_id": request.user.department_id,
            "figures": readable(metrics.department_month(request.user.department_id, month))
            if request.user.department_id else None}


def _to_publish(request: HttpRequest) -> dict[str, Any]:  # noqa: ARG001
    """Last month per department: breaches still unexplained, and whether it is published."""
    month = metrics.add_months(metrics.current_month(), -1)
    start, end = metrics.month_bounds(month)
    unexplained = (Q(explanation="") | Q(corrective_action="") | Q(action_owner__isnull=True)
                   | Q(action_due__isnull=True))
    rows = list(Breach.objects.filter(breached_at__gte=start, breached_at__lt=end, department__isnull=False)
                .values("department_id", "department__name")
                .annotate(total=Count("pk"), unexplained=Count("pk", filter=unexplained))
                .order_by("-unexplained", "department__name")[:8])
    published = set(Evaluation.objects.filter(month=month, state=EvaluationState.PUBLISHED)
                    .values_list("department_id", flat=True))
    return {"month": month, "rows": [{**r, "published": r["department_id"] in published} for r in rows]}


def register() -> None:
    register_nav(NavItem(_("Service levels"), "sla:home",
                         roles=(roles.SUPERVISOR, roles.AUDITOR, *roles.IT_STAFF, roles.DEPARTMENT_USER), order=40))
    register_panel(HomePanel("sla-department", _("My department's service levels this month"),
                             "sla/panels/department_month.html", _department_month,
                             roles=(roles.DEPARTMENT_USER,), order=20))
    register_panel(HomePanel("sla-to-publish", _("Last month's breaches to explain"),
                             "sla/panels/to_publish.html", _to_publish, roles=(roles.SUPERVISOR,), order=30))
