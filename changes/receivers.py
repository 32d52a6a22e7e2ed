"""Who hears about what happens to a change: outbox rows written inside the transition (delivered after commit)."""

from typing import Any

from django.dispatch import receiver
from django.urls import reverse
from django.utils.translation import gettext as _

from changes.choices import ApprovalMode, State
from changes.models import Change
from opscenter.core import roles
from opscenter.core.models import User
from opscenter.core.outbox import notify
from opscenter.core.selectors import role_members
from opscenter.core.signals import transition_performed


def _users_with(role: str) -> list[User]:
    return role_members(role)


def _send(change: Change, event: str, recipients: list[User], subject: str) -> None:
    notify(event=event, recipients=recipients, subject=f"{change.number} {subject}"[:200], body=change.title,
           link=reverse("changes:change-detail", args=[change.pk]),
           payload={"change": change.number, "id": change.pk, "state": change.state, "risk": change.risk_level})


def approvers_of(change: Change) -> list[User]:
    if change.approval_mode == ApprovalMode.JOINT:
        return list(change.cab_members.filter(is_active=True))
    return [u for u in _users_with(roles.CHANGE_APPROVER) if u.pk not in (change.created_by_id, change.implementer_id)]


def opinion_invited(change: Change, reviewers: list[User]) -> None:
    _send(change, "change.opinion_requested", reviewers, _("your assessment opinion is requested"))


@receiver(transition_performed, sender=Change)
def on_change_transition(sender: Any, instance: Change, transition: str, source: str, target: str, actor: Any,
                         log: Any, **kwargs: Any) -> None:
    change = instance
    people = [u for u in (change.created_by, change.implementer) if u is not None]
    if target == State.SUBMITTED and source != target:
        _send(change, "change.submitted", _users_with(roles.SUPERVISOR), _("awaits assessment"))
    elif target == State.AWAITING_APPROVAL and source != target:
        _send(change, "change.awaiting_approval", approvers_of(change), _("awaits your approval"))
    elif target == State.APPROVED and source != target:
        _send(change, "change.approved", people, _("approved"))
    elif target == State.REJECTED:
        _send(change, "change.rejected", people, _("rejected"))
    elif target == State.DRAFT:
        _send(change, "change.sent_back", [change.created_by], _("sent back to you"))
    elif target == State.FAILED:
        _send(change, "change.failed", _users_with(roles.SUPERVISOR), _("FAILED during implementation"))
    elif target in (State.COMPLETED, State.ROLLED_BACK):
        _send(change, f"change.{target}", _users_with(roles.SUPERVISOR), _("report awaits your review"))
    elif target == State.CLOSED:
        _send(change, "change.closed", people, _("closed"))
