"""Handovers (交接班): who takes over from a shift, whether its person may leave (不得擅自離崗), the handover
written by the outgoing person with what it carries over, and its acknowledgement by the incoming person.

What a handover carries over comes through the kernel's extension point (`register_handover_items`): incidents
and changes (and later alerts and inspection findings) register their providers in their own ready(), so that
duty imports none of them. Each line is copied when the handover is written (`HandoverItem`).

Who takes over: the published shift of the same team and role that starts when the outgoing one ends. With
several people in one role, the outgoing and incoming shifts are paired in order; when the same person stays on
(a double shift) nobody takes over, and nobody does after the last shift of a roster: then the person may leave
without an acknowledgement (a handover written then waits for a supervisor).
"""

from typing import Any

from django.contrib.contenttypes.models import ContentType
from django.db import transaction
from django.db.models import Exists, OuterRef, QuerySet, Subquery
from django.urls import reverse
from django.utils import translation
from django.utils.translation import gettext as _

from duty.choices import Attendance, HandoverState
from duty.models import Handover, HandoverItem, Shift
from duty.notifications import HANDOVER_ACKNOWLEDGED, HANDOVER_WRITTEN
from duty.selectors import may_read_duty
from opscenter.core import roles
from opscenter.core.exceptions import ConditionFailed, InvalidInput, TransitionForbidden
from opscenter.core.extensions import handover_entries, handover_sources
from opscenter.core.formatting import local_datetime
from opscenter.core.models import TransitionLog
from opscenter.core.outbox import notify
from opscenter.core.roles import has_role
from opscenter.core.services import perform_transition

# What each HandoverItem column holds at most (the snapshot is cut to fit, never refused).
ITEM_LIMITS = {"reference": 40, "title": 200, "status": 80, "url": 200}
# What a handover page and list read with each handover.
HANDOVER_RELATED = ("shift__team", "shift__user", "incoming_shift__user", "written_by", "acknowledged_by")


# --- Who takes over, and who may leave --------------------------------------------------------------------------


def incoming_shift_for(shift: Shift) -> Shift | None:
    """The shift that takes over from `shift` (its person loaded), or None when nobody does: nobody follows in the
    same team and role, or the same person stays on."""
    following = list(Shift.objects.published().filter(team_id=shift.team_id, role=shift.role, start=shift.end)
                     .exclude(pk=shift.pk).select_related("user").order_by("pk"))
    if not following or any(f.user_id == shift.user_id for f in following):
        return None
    if len(following) == 1:
        return following[0]
    outgoing = list(Shift.objects.published().filter(team_id=shift.team_id, role=shift.role, end=shift.end)
                    .order_by("pk").values_list("pk", flat=True))
    position = outgoing.index(shift.pk) if shift.pk in outgoing else 0
    return following[position % len(following)]


def with_leave_facts(shifts: QuerySet[Shift]) -> QuerySet[Shift]:
    """The shifts with what `may_leave` reads worked out in their own query (a list asks it of every row on duty):
    the state of each one's handover, whether someone else follows it, and whether its person stays on."""
    following = (Shift.objects.published().filter(team=OuterRef("team"), role=OuterRef("role"), start=OuterRef("end"))
                 .exclude(pk=OuterRef("pk")))
    return shifts.annotate(
        leave_handover_state=Subquery(Handover.objects.filter(shift=OuterRef("pk")).values("state")[:1]),
        leave_someone_follows=Exists(following.exclude(user=OuterRef("user"))),
        leave_stays_on=Exists(following.filter(user=OuterRef("user"))))


def may_leave(shift: Shift) -> bool:
    """不得擅自離崗: the person may check out when the handover of the shift is acknowledged, or when nobody takes
    over from it (the last shift of the roster, or the same person stays on)."""
    if hasattr(shift, "leave_someone_follows"):  # read with the shift (with_leave_facts)
        return (shift.leave_handover_state == HandoverState.ACKNOWLEDGED or shift.leave_stays_on
                or not shift.leave_someone_follows)
    state = Handover.objects.filter(shift_id=shift.pk).values_list("state", flat=True).first()
    return state == HandoverState.ACKNOWLEDGED or incoming_shift_for(shift) is None


def leave_refusal(shift: Shift) -> str:
    """Why the person of `shift` may not leave yet, naming who takes over; "" when they may."""
    handover = Handover.objects.filter(shift_id=shift.pk).only("state").first()
    if handover is not None and handover.state == HandoverState.ACKNOWLEDGED:
        return ""
    incoming = incoming_shift_for(shift)
    if incoming is None:
        return ""
    facts = {"person": str(incoming.user), "at": local_datetime(incoming.start)}
    if handover is None:
        return _("Write the handover first: %(person)s takes over at %(at)s and must acknowledge it before you "
                 "check out.") % facts
    return _("%(person)s has not acknowledged your handover yet: you may check out once they have.") % facts


# --- Reading ------------------------------------------------------------------------------------------------------


def handover_list(*, user: Any) -> QuerySet[Handover]:
    """The handovers the user may read, newest first, with what a list row shows."""
    qs = Handover.objects.select_related(*HANDOVER_RELATED).order_by("-written_at", "-pk")
    return qs if may_read_duty(user) else qs.none()


def handover_get(*, user: Any, pk: int) -> Handover:
    """One handover the user may read, with its items (Handover.DoesNotExist otherwise → 404)."""
    return handover_list(user=user).prefetch_related("items").get(pk=pk)


def handovers_waiting(*, user: Any) -> QuerySet[Handover]:
    """Handovers not yet acknowledged, the longest waiting first (the supervisor's view)."""
    return handover_list(user=user).filter(state=HandoverState.WRITTEN).order_by("written_at", "pk")


def handover_to_acknowledge(*, user: Any) -> Handover | None:
    """The handover waiting for this user's acknowledgement (the earliest, when there are several)."""
    return (handover_list(user=user).filter(state=HandoverState.WRITTEN, incoming_shift__user=user)
            .order_by("written_at", "pk").first())


def item_groups(handover: Handover) -> list[tuple[Any, list[HandoverItem]]]:
    """The handover's items under the label of the source that carried them over, in the sources' order (a source
    no longer registered: under its key, last)."""
    labels = {source.key: (position, source.label) for position, source in enumerate(handover_sources())}
    groups: dict[str, list[HandoverItem]] = {}
    for item in handover.items.all():
        groups.setdefault(item.source, []).append(item)
    ordered = sorted(groups.items(), key=lambda pair: (labels.get(pair[0], (len(labels), pair[0]))[0], pair[0]))
    return [(labels[key][1] if key in labels else key, items) for key, items in ordered]


# --- Writing and acknowledging ----------------------------------------------------------------------------------


def _cut(value: Any, field: str) -> str:
    return str(value or "")[:ITEM_LIMITS[field]]


def _items(handover: Handover, shift: Shift) -> list[HandoverItem]:
    """The lines every registered source carries over for the shift, as the outgoing person may see them; states'
    labels kept untranslated (pages translate them for each reader)."""
    with translation.override(None):
        found = handover_entries(shift.team, shift.start, shift.end, shift.user)
        items = [HandoverItem(handover=handover, source=source.key[:32], reference=_cut(entry.reference, "reference"),
                              title=_cut(entry.title, "title"), status=_cut(entry.status, "status"),
                              url=_cut(entry.url, "url"))
                 for source, entries in found for entry in entries]
    for position, item in enumerate(items):
        item.ordering = position
    return items


def _check_may_write(shift: Shift, user: Any) -> None:
    if not user.has_perm("duty.add_handover"):
        raise TransitionForbidden(_("You may not write handovers."))
    if shift.user_id != user.pk and not has_role(user, roles.SUPERVISOR):
        raise TransitionForbidden(_("Only the person on the shift (or a supervisor for them) writes its handover."),
                                  code="not_your_shift")


def handover_write(*, shift: Shift, user: Any, summary: str) -> Handover:
    """交接班: the outgoing person (or a supervisor for them) writes the handover of a shift they are on duty for;
    the open incidents, changes in progress and whatever else the registered sources carry over are copied into
    it, and the incoming person is asked to acknowledge it. One handover per shift."""
    _check_may_write(shift, user)
    summary = (summary or "").strip()
    if not summary:
        raise InvalidInput({"summary": [_("Write what the incoming person must know.")]})
    with transaction.atomic():
        locked = Shift.objects.select_for_update().select_related("team", "user").get(pk=shift.pk)
        if locked.attendance != Attendance.ON_DUTY:
            raise ConditionFailed(_("The handover is written while on duty: check in first."), code="not_on_duty")
        if Handover.objects.filter(shift=locked).exists():
            raise ConditionFailed(_("The handover of this shift is already written."), code="handover_exists")
        incoming = incoming_shift_for(locked)
        handover = Handover.objects.create(shift=locked, incoming_shift=incoming, summary=summary, written_by=user)
        HandoverItem.objects.bulk_create(_items(handover, locked))
        TransitionLog.objects.create(
            content_type=ContentType.objects.get_for_model(Handover), object_id=handover.pk, transition="write",
            source_state="", target_state=handover.state, actor=user, comment="",
            data={"shift": locked.pk, "incoming_shift": incoming.pk if incoming else None})
        if incoming is not None:
            notify(kind=HANDOVER_WRITTEN, recipients=[incoming.user], params=_params(handover, locked.user),
                   link=reverse("duty:handover-detail", args=[handover.pk]))
    return handover


def _params(handover: Handover, person: Any) -> dict[str, Any]:
    return {"id": handover.pk, "person": str(person), "team": str(handover.shift.team)}


def handover_acknowledge(handover: Handover, *, user: Any, comment: str = "") -> Handover:
    """The incoming person (or a supervisor for them, never whoever wrote it) acknowledges the handover; the
    outgoing person is told they may check out."""

    def tell_outgoing(locked: Handover, log: TransitionLog) -> None:
        outgoing = Shift.objects.select_related("user", "team").get(pk=locked.shift_id)
        if outgoing.user_id != user.pk:
            notify(kind=HANDOVER_ACKNOWLEDGED, recipients=[outgoing.user],
                   params={"id": locked.pk, "person": str(user), "team": str(outgoing.team)},
                   link=reverse("duty:my-duty"))

    return perform_transition(handover, "acknowledge", user=user, comment=comment, then=tell_outgoing)
