"""Service level entries of the navigation bar, the tabs of the service level pages, and the home panels.

The top bar holds one "Service levels" entry; the dashboards, evaluations, satisfaction surveys, follow-ups
and questionnaires are tabs on the service level pages, each shown to the roles that may open it."""

from typing import Any

from django.db.models import Count, Q
from django.http import HttpRequest
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from opscenter.core import roles
from opscenter.core.navigation import HomePanel, NavItem, register_nav, register_panel
from sla import metrics
from sla.choices import EvaluationState, FollowUpState
from sla.models import Breach, Evaluation, FollowUp

PANEL_ROWS = 5
READERS = (roles.SUPERVISOR, roles.AUDITOR, *roles.IT_STAFF, roles.DEPARTMENT_USER)
# Tabs of the service level pages: who sees each is who may open it (the views refuse everyone else).
TABS = (
    NavItem(_("Dashboard"), "sla:home", roles=READERS, order=10),
    NavItem(_("Monthly evaluations"), "sla:evaluation-list", roles=READERS, order=20),
    NavItem(_("Satisfaction surveys"), "sla:survey-list",
            roles=(roles.SUPERVISOR, roles.AUDITOR, roles.DEPARTMENT_USER), order=30),
    NavItem(_("Follow-ups"), "sla:follow-up-list", roles=(roles.SUPERVISOR, roles.AUDITOR), order=40),
    NavItem(_("Questionnaires"), "sla:campaign-list", roles=(roles.SUPERVISOR, roles.AUDITOR), order=50),
)


def tabs_for(user: Any, path: str) -> list[dict[str, Any]]:
    """The tabs the user may open, the current one marked: the tab whose address is the longest start of the
    path (a department's dashboard sits under the dashboard tab, a campaign under questionnaires). A
    department user without a department reads no surveys."""
    visible = [tab for tab in TABS if roles.has_role(user, *tab.roles)
               and (tab.url_name != "sla:survey-list" or user.department_id
                    or roles.has_role(user, roles.SUPERVISOR, roles.AUDITOR))]
    urls = [tab.url() for tab in visible]
    current = max((u for u in urls if path.startswith(u)), key=len, default=None)
    return [{"label": tab.label, "url": url, "active": url == current} for tab, url in zip(visible, urls, strict=True)]


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


def surveys_waiting(user: Any) -> dict[str, Any]:
    """The incident surveys and questionnaires waiting for the user's answer, each with its answer link, the
    soonest to close first (two queries)."""
    from sla.surveys import selectors as survey_selectors
    from sla.surveys.services import invitation_link, survey_link

    now = timezone.now()
    surveys = [{"title": s.incident.title, "number": s.incident.number, "closes_at": s.expires_at,
                "url": survey_link(s)} for s in survey_selectors.surveys_waiting(user=user, now=now)[:PANEL_ROWS]]
    invitations = [{"title": i.campaign.name, "number": "", "closes_at": i.campaign.closes_at,
                    "url": invitation_link(i)}
                   for i in survey_selectors.invitations_waiting(user=user, now=now)[:PANEL_ROWS]]
    return {"rows": sorted(invitations + surveys, key=lambda r: (r["closes_at"] is None, r["closes_at"] or now))}


def _surveys_waiting(request: HttpRequest) -> dict[str, Any]:
    return surveys_waiting(request.user)


def _waiting_count(user: Any) -> int:
    from sla.surveys.selectors import waiting_count

    return waiting_count(user)


def _follow_ups(request: HttpRequest) -> dict[str, Any]:  # noqa: ARG001
    """Low satisfaction scores still to follow up with the respondent, oldest first (the policy asks the
    supervisor to call back), and how many there are."""
    open_ones = FollowUp.objects.filter(state=FollowUpState.OPEN)
    rows = list(open_ones.select_related("survey__incident", "survey__respondent", "survey__department")
                .order_by("created_at", "pk")[:PANEL_ROWS])
    return {"rows": rows, "total": open_ones.count() if len(rows) == PANEL_ROWS else len(rows)}


def register() -> None:
    register_nav(NavItem(_("Service levels"), "sla:home", roles=READERS, order=40, sections=("/sla/", "/surveys/"),
                         count=_waiting_count, count_title=_("Surveys waiting for your answer")))
    register_panel(HomePanel("sla-surveys", _("Surveys waiting for your answer"), "sla/panels/surveys_waiting.html",
                             _surveys_waiting, roles=(roles.DEPARTMENT_USER,), order=15))
    register_panel(HomePanel("sla-department", _("My department's service levels this month"),
                             "sla/panels/department_month.html", _department_month,
                             roles=(roles.DEPARTMENT_USER,), order=20))
    register_panel(HomePanel("sla-to-publish", _("Last month's breaches to explain"),
                             "sla/panels/to_publish.html", _to_publish, roles=(roles.SUPERVISOR,), order=30))
    register_panel(HomePanel("sla-follow-ups", _("Satisfaction follow-ups"), "sla/panels/follow_ups.html",
                             _follow_ups, roles=(roles.SUPERVISOR,), order=31))
