"""What duty tells people (the kinds its services and receivers send); the kernel renders each for its reader."""

from typing import Any

from django.utils.translation import gettext_lazy as _

from duty.choices import SwapKind, SwapState
from duty.models import SwapRequest
from opscenter.core.notification_kinds import NotificationKind, declare, timestamp

# --- swap (調班) -----------------------------------------------------------------------------------------

SWAP_LABELS = {"state": SwapState, "kind": SwapKind}

(SWAP_REQUESTED, SWAP_TRADE_REQUESTED, SWAP_ACCEPTED, SWAP_TO_APPROVE, SWAP_DECLINED, SWAP_APPROVED, SWAP_REJECTED,
 SWAP_CANCELLED, SWAP_EXPIRED) = declare(
    NotificationKind("duty.swap_requested", _("Shift swap asked of you"),
                     _("%(requester)s asks you to take over a shift: %(shift_at)s"),
                     _("%(team)s · %(shift_at)s – %(shift_end_at)s. Reason: %(reason)s"), labels=SWAP_LABELS),
    NotificationKind("duty.swap_trade_requested", _("Shift trade asked of you"),
                     _("%(requester)s proposes a trade: their shift of %(shift_at)s for yours of %(counter_at)s"),
                     _("%(team)s · %(shift_at)s – %(shift_end_at)s. Reason: %(reason)s"), labels=SWAP_LABELS),
    NotificationKind("duty.swap_accepted", _("Shift swap accepted"),
                     _("%(colleague)s accepted the swap of %(shift_at)s: waiting for a supervisor"),
                     labels=SWAP_LABELS),
    NotificationKind("duty.swap_to_approve", _("Shift swap to approve"),
                     _("shift swap to approve: %(requester)s → %(colleague)s, %(shift_at)s"),
                     _("%(team)s · %(shift_at)s – %(shift_end_at)s. Reason: %(reason)s"), labels=SWAP_LABELS),
    NotificationKind("duty.swap_declined", _("Shift swap declined"),
                     _("%(colleague)s declined the swap of %(shift_at)s"), "%(comment)s", labels=SWAP_LABELS),
    NotificationKind("duty.swap_approved", _("Shift swap approved"),
                     _("shift swap approved: %(requester)s → %(colleague)s, %(shift_at)s"), labels=SWAP_LABELS),
    NotificationKind("duty.swap_rejected", _("Shift swap rejected"),
                     _("shift swap rejected: %(requester)s → %(colleague)s, %(shift_at)s"), "%(comment)s",
                     labels=SWAP_LABELS),
    NotificationKind("duty.swap_cancelled", _("Shift swap withdrawn"),
                     _("%(requester)s withdrew the swap of %(shift_at)s"), labels=SWAP_LABELS),
    NotificationKind("duty.swap_expired", _("Shift swap expired"),
                     _("the swap of %(shift_at)s expired undecided when the shift started"), labels=SWAP_LABELS),
)


def swap_params(swap: SwapRequest, *, actor: Any = None, comment: str = "") -> dict[str, Any]:
    """A swap's facts for its notifications: the people, the time given (and taken), the team, the state, who
    acted and what they said."""
    start, end = swap.window()
    counter = swap.counter_shift if swap.counter_shift_id else None
    return {"id": swap.pk, "kind": swap.kind, "state": swap.state, "requester": str(swap.requester),
            "colleague": str(swap.colleague), "team": str(swap.shift.team), "shift_at": timestamp(start),
            "shift_end_at": timestamp(end), "counter_at": timestamp(counter.start) if counter else None,
            "reason": swap.reason, "comment": comment, "actor": str(actor) if actor is not None else ""}



# --- attend: attendance and handovers --------------------------------------------------------------------------

ABSENT, ABSENT_BACKUP, ARRIVED_AFTER_ABSENCE, HANDOVER_WRITTEN, HANDOVER_ACKNOWLEDGED = declare(
    NotificationKind("duty.absent", _("Absent from a shift"),
                     _("%(person)s has not checked in for the %(team)s shift from %(start_at)s"),
                     _("Marked absent %(minutes)s minutes after the start. Backup: %(backup)s.")),
    NotificationKind("duty.absent_backup", _("Asked to cover an absence"),
                     _("Please cover: %(person)s has not checked in for the %(team)s shift from %(start_at)s"),
                     _("You are the backup: you are on duty next to this shift, or the next of the team on duty. "
                       "The supervisor has been told.")),
    NotificationKind("duty.arrived_after_absence", _("Arrived after being marked absent"),
                     _("%(person)s has arrived for the %(team)s shift from %(start_at)s, %(minutes)s minutes late")),
    NotificationKind("duty.handover_written", _("Handover to acknowledge"),
                     _("Handover from %(person)s (%(team)s) to acknowledge"),
                     _("Read it and acknowledge it when you take over: %(person)s may leave only then.")),
    NotificationKind("duty.handover_acknowledged", _("Handover acknowledged"),
                     _("%(person)s has acknowledged your handover (%(team)s): you may check out")),
)
