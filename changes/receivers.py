"""Who hears about what happens to a change: outbox rows written inside the transition (delivered after commit)."""

from typing import Any

from django.dispatch import receiver
from django.urls import reverse

from changes import notifications
from changes.choices import ApprovalMode, State
from changes.models import Change
from changes.notifications import change_params
from opscenter.core import roles
from opscenter.core.models import User
from opscenter.core.notification_kinds import NotificationKind
from opscenter.core.outbox import notify
from opscenter.core.selectors import role_members
from opscenter.core.signals import transition_performed


def _users_with(role: str) -> list[User]:
    return role_members(role)


def _send(change: Change, kind: NotificationKind, recipients: list[User], actor: Any = None) -> None:
    notify(kind=kind, recipients=recipients, params=change_params(change, actor=actor),
           link=reverse("changes:change-detail", args=[change.pk]))


def approvers_of(change: Change) -> list[User]:
    if change.approval_mode == ApprovalMode.JOINT:
        return list(change.cab_members.filter(is_active=True))
    return [u for u in _users_with(roles.CHANGE_APPROVER) if u.pk not in (change.created_by_id, change.implementer_id)]


def opinion_invited(change: Change, reviewers: list[User], actor: Any = None) -> None:
    _send(change, notifications.OPINION_REQUESTED, reviewers, actor)


@receiver(transition_performed, sender=Change)
def on_change_transition(sender: Any, instance: Change, transition: str, source: str, target: str, actor: Any,
                         log: Any, **kwargs: Any) -> None:
    change = instance
    people = [u for u in (change.created_by, change.implementer) if u is not None]
    if target == State.SUBMITTED and source != target:
        _send(change, notifications.SUBMITTED, _users_with(roles.SUPERVISOR), actor)
    elif target == State.AWAITING_APPROVAL and source != target:
        _send(change, notifications.AWAITING_APPROVAL, approvers_of(change), actor)
    elif target == State.APPROVED and source != target:
        _send(change, notifications.APPROVED, people, actor)
    elif target == State.REJECTED:
        _send(change, notifications.REJECTED, people, actor)
    elif target == State.DRAFT:
        _send(change, notifications.SENT_BACK, [change.created_by], actor)
    elif target == State.FAILED:
        _send(change, notifications.FAILED, _users_with(roles.SUPERVISOR), actor)
    elif target == State.COMPLETED:
        _send(change, notifications.COMPLETED, _users_with(roles.SUPERVISOR), actor)
    elif target == State.ROLLED_BACK:
        _send(change, notifications.ROLLED_BACK, _users_with(roles.SUPERVISOR), actor)
    elif target == State.CLOSED:
        _send(change, notifications.CLOSED, people, actor)
