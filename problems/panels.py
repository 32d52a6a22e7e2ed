"""Problem entries of the navigation bar and the home page: the problem manager's open problems, reports awaiting
approval and actions coming due; an engineer's own problems and actions."""

from typing import Any

from django.http import HttpRequest
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from opscenter.core import roles
from opscenter.core.navigation import HomePanel, NavItem, register_nav, register_panel
from opscenter.core.roles import has_role
from problems.candidates import candidate_list, proposed_count
from problems.choices import CandidateState, State
from problems.models import READERS
from problems.selectors import actions_due, my_open_problems, problem_list

PANEL_ROWS = 8


def _mine(request: HttpRequest) -> dict[str, Any]:
    return {"problems": list(my_open_problems(user=request.user)[:PANEL_ROWS]), "queue": "mine"}


def _reports(request: HttpRequest) -> dict[str, Any]:
    """Reports to approve: the longest waiting first, never one the viewer submitted (segregation of duties)."""
    rows = (problem_list(user=request.user).filter(state=State.UNDER_REVIEW).exclude(report_submitted_by=request.user)
            .order_by("report_submitted_at", "pk"))
    return {"problems": list(rows[:PANEL_ROWS]), "queue": "open"}


def _actions(request: HttpRequest) -> dict[str, Any]:
    """Actions due within a week or overdue: every problem's for a problem manager, one's own for an engineer."""
    everyone = has_role(request.user, roles.PROBLEM_MANAGER)
    return {"actions": list(actions_due(user=request.user, everyone=everyone)[:PANEL_ROWS]),
            "today": timezone.localdate(), "queue": "overdue"}


CANDIDATE_ROWS = 5


def _candidates(request: HttpRequest) -> dict[str, Any]:
    """Recurring incidents proposed as problems, waiting for the problem manager's decision: the newest first."""
    rows = list(candidate_list(user=request.user, state=CandidateState.PROPOSED)[:CANDIDATE_ROWS + 1])
    more = proposed_count(user=request.user) - CANDIDATE_ROWS if len(rows) > CANDIDATE_ROWS else 0
    return {"candidates": rows[:CANDIDATE_ROWS], "more": max(more, 0)}


def register() -> None:
    register_nav(NavItem(_("Problems"), "problems:problem-list", roles=READERS, order=15, sections=("/problems/",)))
    register_panel(HomePanel("problems-mine", _("My open problems"), "problems/panels/problem_rows.html", _mine,
                             roles=(roles.PROBLEM_MANAGER, *roles.ENGINEERS), order=5))
    register_panel(HomePanel("problems-reports", _("Problem reports awaiting approval"),
                             "problems/panels/problem_rows.html", _reports, roles=(roles.PROBLEM_MANAGER,), order=6))
    register_panel(HomePanel("problems-candidates", _("Problem candidates waiting for a decision"),
                             "problems/panels/candidate_rows.html", _candidates,
                             roles=(roles.PROBLEM_MANAGER, roles.SUPERVISOR), order=6))
    register_panel(HomePanel("problems-actions", _("Problem actions due this week"),
                             "problems/panels/action_rows.html", _actions,
                             roles=(roles.PROBLEM_MANAGER, *roles.ENGINEERS), order=7))
