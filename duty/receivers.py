"""Who hears about what happens in duty (outbox rows written inside the transaction that made it happen), and what
duty does when other processes act (signal wiring only)."""

from typing import Any

from django.dispatch import receiver
from django.urls import reverse

from duty import notifications
from duty.choices import SwapKind, SwapState
from duty.models import SwapRequest
from duty.notifications import swap_params
from duty.phone_reports import record_phone_report
from incidents.choices import Channel
from incidents.models import Incident
from opscenter.core import roles
from opscenter.core.models import User
from opscenter.core.notification_kinds import NotificationKind
from opscenter.core.outbox import notify
from opscenter.core.selectors import role_members
from opscenter.core.signals import ticket_created, transition_performed

# --- swap (調班) -----------------------------------------------------------------------------------------


def _swap_link(swap: SwapRequest) -> str:
    return reverse("duty:swaprequest-detail", args=[swap.pk])


def _send_swap(swap: SwapRequest, kind: NotificationKind, people: list[Any], *, actor: Any = None,
               comment: str = "") -> None:
    """Tell these people (never whoever acted: they know) once each."""
    recipients = [person for person in people if person is not None and getattr(actor, "pk", None) != person.pk]
    if recipients:
        notify(kind=kind, recipients=recipients, params=swap_params(swap, actor=actor, comment=comment),
               link=_swap_link(swap))


def swap_approvers(swap: SwapRequest) -> list[User]:
    """The supervisors who may approve: every supervisor but the two people of the swap."""
    return [user for user in role_members(roles.SUPERVISOR) if user.pk not in (swap.requester_id, swap.colleague_id)]


@receiver(ticket_created, sender=SwapRequest)
def swap_requested(sender: Any, instance: SwapRequest, actor: Any = None, **kwargs: Any) -> None:
    """The colleague is asked; a requester a supervisor acted for hears of it too."""
    swap = instance
    kind = notifications.SWAP_TRADE_REQUESTED if swap.kind == SwapKind.TRADE else notifications.SWAP_REQUESTED
    _send_swap(swap, kind, [swap.colleague, swap.requester], actor=actor)


@receiver(transition_performed, sender=SwapRequest)
def on_swap_transition(sender: Any, instance: SwapRequest, transition: str, source: str, actor: Any,
                       log: Any = None, **kwargs: Any) -> None:
    swap = instance
    comment = getattr(log, "comment", "") or ""
    people = [swap.requester, swap.colleague]
    if transition == "accept":
        _send_swap(swap, notifications.SWAP_ACCEPTED, people, actor=actor)
        _send_swap(swap, notifications.SWAP_TO_APPROVE, swap_approvers(swap), actor=actor)
    elif transition == "decline":
        _send_swap(swap, notifications.SWAP_DECLINED, people, actor=actor, comment=comment)
    elif transition == "approve":
        _send_swap(swap, notifications.SWAP_APPROVED, [*people, swap.created_by], actor=actor, comment=comment)
    elif transition == "reject":
        _send_swap(swap, notifications.SWAP_REJECTED, people, actor=actor, comment=comment)
    elif transition == "cancel":
        waiting = swap_approvers(swap) if source == SwapState.ACCEPTED else []
        _send_swap(swap, notifications.SWAP_CANCELLED, [*people, *waiting], actor=actor, comment=comment)


def swaps_expired(ids: list[int]) -> None:
    """The sweep expired these swaps: the requester and the colleague hear of it (no transition signal is sent
    for a bulk transition)."""
    for swap in SwapRequest.objects.filter(pk__in=ids).select_related(
            "requester", "colleague", "shift__team", "counter_shift"):
        _send_swap(swap, notifications.SWAP_EXPIRED, [swap.requester, swap.colleague])



# --- remind: a fault reported by phone goes into the duty log of the duty officer's shift
@receiver(ticket_created, sender=Incident)
def incident_reported(sender: Any, instance: Incident, **kwargs: Any) -> None:
    if instance.channel == Channel.PHONE:
        record_phone_report(instance)
