"""What problem management tells people (the kinds its receivers and services send); the kernel renders each for
its reader."""

from typing import Any

from django.utils.translation import gettext_lazy as _

from opscenter.core.notification_kinds import NotificationKind, declare, ticket_params
from problems.choices import State
from problems.models import ActionItem, Problem

LABELS = {"state": State}

# --- the problem's core: owner, report, closure, action items ---
ASSIGNED, REPORT_SUBMITTED, REPORT_RETURNED, CLOSED, ACTION_ASSIGNED = declare(
    NotificationKind("problem.assigned", _("Problem assigned"), _("problem assigned to you: %(title)s"),
                     labels=LABELS),
    NotificationKind("problem.report_submitted", _("Problem report to approve"),
                     _("problem report awaits your approval"), "%(title)s", labels=LABELS),
    NotificationKind("problem.report_returned", _("Problem report returned"), _("problem report returned: %(title)s"),
                     labels=LABELS),
    NotificationKind("problem.closed", _("Problem closed"), _("problem closed: %(title)s"), labels=LABELS),
    NotificationKind("problem.action_assigned", _("Problem action assigned"),
                     _("action assigned to you: %(measure)s"), "%(title)s", labels=LABELS),
)


def problem_params(problem: Problem, *, actor: Any = None, **extra: Any) -> dict[str, Any]:
    """A problem's facts for its notifications: number, title, state, service and who acted."""
    return ticket_params(problem, service=str(problem.service) if problem.service_id else "",
                         actor=str(actor) if actor is not None else "", **extra)


def action_params(action: ActionItem, *, actor: Any = None) -> dict[str, Any]:
    """An action item's facts: its problem's, the measure and its due date."""
    # A date, not an instant: shown as written ("2026-03-31") under "Due".
    due = action.due_date.isoformat() if action.due_date else ""
    return problem_params(action.problem, actor=actor, measure=action.measure, due_at=due)

# --- recurrence and overdue actions (sent by the periodic tasks) ---
ACTION_OVERDUE, RECURRED = declare(
    NotificationKind("problem.action_overdue", _("Problem action overdue"),
                     _("your action is past its due date: %(measure)s"), "%(title)s", labels=LABELS),
    NotificationKind("problem.recurred", _("Problem recurred"),
                     _("recurrence during the observation window: %(title)s"), "%(reason)s", labels=LABELS),
)
