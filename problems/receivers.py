"""Who hears about what happens to a problem: outbox rows written inside the transition (delivered after commit)."""

from typing import Any

from django.dispatch import receiver
from django.urls import reverse

from opscenter.core import roles
from opscenter.core.notification_kinds import NotificationKind
from opscenter.core.outbox import notify
from opscenter.core.selectors import role_members
from opscenter.core.signals import transition_performed
from problems import notifications
from problems.choices import State
from problems.models import Problem
from problems.notifications import problem_params


def _send(problem: Problem, kind: NotificationKind, recipients: list[Any], actor: Any) -> None:
    others = [u for u in recipients if u is not None and u.pk != getattr(actor, "pk", None)]
    if others:
        notify(kind=kind, recipients=others, params=problem_params(problem, actor=actor),
               link=reverse("problems:problem-detail", args=[problem.pk]))


@receiver(transition_performed, sender=Problem)
def on_problem_transition(sender: Any, instance: Problem, transition: str, source: str, target: str, actor: Any,
                          **kwargs: Any) -> None:
    problem = instance
    if transition == "investigate":
        _send(problem, notifications.ASSIGNED, [problem.owner], actor)
    elif target == State.UNDER_REVIEW:
        # The report goes to the problem managers (問題管理負責人), who approve it or return it.
        _send(problem, notifications.REPORT_SUBMITTED, role_members(roles.PROBLEM_MANAGER), actor)
    elif transition == "return_report":
        _send(problem, notifications.REPORT_RETURNED, [problem.report_submitted_by, problem.owner], actor)
    elif target == State.CLOSED:
        _send(problem, notifications.CLOSED, [problem.owner, problem.created_by], actor)
