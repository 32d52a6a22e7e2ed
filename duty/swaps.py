"""Shift swaps (調班): what makes a swap impossible, the request and its transitions, the roster changed on
approval (both sides in one transaction, the shifts locked), the expiry sweep, and the reads of the swap pages.

A swap gives a shift (or a part of it, the shift then split into rows) to a colleague, or trades it for one of
the colleague's shifts. It is checked when it is asked for, when the colleague accepts and when a supervisor
approves: the world may have moved in between (the roster withdrawn, the shift reassigned, a shift started).
"""

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from django.db import models, transaction
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext as _

from duty.choices import RosterState, SwapKind, SwapState
from duty.models import DutyPolicy, Shift, ShiftReminder, SwapRequest
from opscenter.core import roles
from opscenter.core.caching import renew
from opscenter.core.exceptions import ConditionFailed, InvalidInput, TransitionForbidden
from opscenter.core.formatting import DATETIME_FORMAT
from opscenter.core.models import User
from opscenter.core.roles import has_role, user_team_ids
from opscenter.core.services import perform_bulk_transition, perform_transition, ticket_create

OPEN_STATES = (SwapState.REQUESTED, SwapState.ACCEPTED)
SWAP_RELATIONS = ("requester", "colleague", "created_by", "decided_by", "shift__team", "shift__roster",
                  "shift__user", "counter_shift__user", "counter_shift__team", "counter_shift__roster")


@dataclass(frozen=True)
class Piece:
    """A stretch of duty of one person, as it would be after the swap."""

    user_id: int
    start: datetime
    end: datetime
    shift_id: int | None  # the row it comes from
    touched: bool = False  # received, or what is left of a split shift: its rest and stint are checked


def _when(moment: datetime, policy: DutyPolicy) -> str:
    return moment.astimezone(policy.zone).strftime(DATETIME_FORMAT)


def _hours(value: timedelta) -> str:
    return f"{value.total_seconds() / 3600:g}"


# --- What makes a swap impossible ------------------------------------------------------------------------


def qualification_problems(person: User, shift: Shift) -> list[str]:
    """The person holds the shift's role and belongs to the shift's team."""
    problems = []
    if not has_role(person, shift.role):
        problems.append(_("%(person)s does not hold the role %(role)s of the shift.") % {
            "person": person, "role": shift.get_role_display()})
    if shift.team_id not in user_team_ids(person):
        problems.append(_("%(person)s is not a member of the team %(team)s.") % {
            "person": person, "team": shift.team})
    return problems


def _moves(swap: SwapRequest) -> list[tuple[Shift, datetime, datetime, int, int]]:
    """(shift, from, until, giver, taker) of each stretch that changes hands."""
    start, end = swap.window()
    moves = [(swap.shift, start, end, swap.requester_id, swap.colleague_id)]
    if swap.kind == SwapKind.TRADE and swap.counter_shift_id:
        counter = swap.counter_shift
        moves.append((counter, counter.start, counter.end, swap.colleague_id, swap.requester_id))
    return moves


def _pieces_after(swap: SwapRequest, shifts: Iterable[Shift]) -> list[Piece]:
    """The people's duty after the swap: the moved stretches taken from the givers and added to the takers."""
    moves = _moves(swap)
    moved = {shift.pk: (start, end, giver, taker) for shift, start, end, giver, taker in moves}
    pieces = []
    for shift in shifts:
        if shift.pk not in moved:
            pieces.append(Piece(shift.user_id, shift.start, shift.end, shift.pk))
            continue
        start, end, giver, taker = moved[shift.pk]
        if shift.start < start:
            pieces.append(Piece(giver, shift.start, start, shift.pk, touched=True))
        if end < shift.end:
            pieces.append(Piece(giver, end, shift.end, shift.pk, touched=True))
    for shift, start, end, _giver, taker in moves:
        pieces.append(Piece(taker, start, end, shift.pk, touched=True))
    return pieces


def _reach(swap: SwapRequest, policy: DutyPolicy) -> tuple[datetime, datetime]:
    """The stretch around the moved shifts where a rest or a stint of the two people could change."""
    moves = _moves(swap)
    reach = timedelta(hours=policy.max_hours_in_row + policy.min_rest_hours)
    return min(m[1] for m in moves) - reach, max(m[2] for m in moves) + reach


def _nearby_shifts(swap: SwapRequest, policy: DutyPolicy) -> list[Shift]:
    """In one query, the published shifts the checks look at besides the moved ones: the two people's around the
    swap, and those of each moved shift's team and role at its time."""
    moves = _moves(swap)
    low, high = _reach(swap, policy)
    near = Q(user_id__in=[swap.requester_id, swap.colleague_id], start__lt=high, end__gt=low)
    for shift, start, end, _giver, _taker in moves:
        near |= Q(team_id=shift.team_id, role=shift.role, start__lt=end, end__gt=start)
    return list(Shift.objects.published().filter(near).exclude(pk__in=[m[0].pk for m in moves])
                .only("pk", "user_id", "team_id", "role", "start", "end", "attendance"))


def _overlap_and_rest_problems(swap: SwapRequest, policy: DutyPolicy, nearby: list[Shift]) -> list[str]:
    """Nobody is on two shifts at once, and neither person's changed duty makes a stint longer or a rest shorter
    than the policy allows (what was already so elsewhere on the roster is the roster's finding, not the swap's)."""
    moves = _moves(swap)
    longest, rest = timedelta(hours=policy.max_hours_in_row), timedelta(hours=policy.min_rest_hours)
    low, high = _reach(swap, policy)
    people = {swap.requester_id: swap.requester, swap.colleague_id: swap.colleague}
    around = [s for s in nearby if s.user_id in people and s.start < high and s.end > low]
    problems = []
    for pk, person in people.items():
        mine = sorted((p for p in _pieces_after(swap, [*around, *(m[0] for m in moves)]) if p.user_id == pk),
                      key=lambda p: (p.start, p.end))
        for piece in mine:
            if not piece.touched:
                continue
            for other in mine:
                if other is not piece and other.start < piece.end and piece.start < other.end:
                    problems.append(_("%(person)s is already on duty from %(start)s to %(end)s.") % {
                        "person": person, "start": _when(other.start, policy), "end": _when(other.end, policy)})
                    break
        stints: list[list[Piece]] = []
        for piece in mine:
            if stints and piece.start <= stints[-1][-1].end:
                stints[-1].append(piece)
            else:
                stints.append([piece])
        for n, stint in enumerate(stints):
            if not any(p.touched for p in stint):
                continue
            start, end = stint[0].start, max(p.end for p in stint)
            if end - start > longest:
                problems.append(_("%(person)s would be on duty %(hours)s hours in a row (at most %(limit)s).") % {
                    "person": person, "hours": _hours(end - start), "limit": policy.max_hours_in_row})
            for before, after in ((stints[n - 1] if n else None, stint), (stint, stints[n + 1] if n + 1 < len(stints)
                                                                          else None)):
                if before is None or after is None:
                    continue
                gap = after[0].start - max(p.end for p in before)
                if gap < rest:
                    problems.append(_("%(person)s would rest only %(hours)s hours before %(start)s (at least "
                                      "%(limit)s).") % {"person": person, "hours": _hours(gap),
                                                        "start": _when(after[0].start, policy),
                                                        "limit": policy.min_rest_hours})
    return list(dict.fromkeys(problems))


def _coverage_problems(swap: SwapRequest, policy: DutyPolicy, nearby: list[Shift]) -> list[str]:
    """The team keeps as many different people in the shift's role at every moment of the moved stretches.

    A swap keeps headcount unless someone ends up counted twice: a small check of the swap's own effect, to
    give way to the roster's coverage findings (duty.coverage.roster_findings) once they can be asked about a
    roster as it would be."""
    problems = []
    moves = _moves(swap)
    for shift, start, end, _giver, _taker in moves:
        rows = [row for row in [*nearby, *(m[0] for m in moves)]
                if row.team_id == shift.team_id and row.role == shift.role and row.start < end and row.end > start]
        ids = {row.pk for row in rows}
        after = [piece for piece in _pieces_after(swap, rows) if piece.shift_id in ids]
        moments = [moment for item in [*rows, *after] for moment in (item.start, item.end)]
        edges = sorted({start, end, *(moment for moment in moments if start < moment < end)})
        for left, right in zip(edges, edges[1:], strict=False):
            before_count = len({r.user_id for r in rows if r.start <= left and r.end >= right})
            after_count = len({p.user_id for p in after if p.start <= left and p.end >= right})
            if after_count < before_count:
                problems.append(_("The team %(team)s would have fewer people on duty as %(role)s from %(start)s to "
                                  "%(end)s.") % {"team": shift.team, "role": shift.get_role_display(),
                                                 "start": _when(left, policy), "end": _when(right, policy)})
                break
    return problems


def swap_problems(swap: SwapRequest, *, now: datetime | None = None) -> list[str]:
    """Why the swap cannot be applied now ([] when it can): its shifts published and not started, still the
    requester's and the colleague's, the part within the shift, both people qualified, nobody on duty twice at
    once, no stint too long or rest too short, and the team as covered as before."""
    now = now or timezone.now()
    policy = DutyPolicy.current()
    shift, counter = swap.shift, swap.counter_shift if swap.counter_shift_id else None
    problems = []
    for row in (shift, counter):
        if row is None:
            continue
        if row.roster.state != RosterState.PUBLISHED:
            problems.append(_("The shift of %(start)s is not on a published roster.") % {
                "start": _when(row.start, policy)})
        if row.start <= now:
            problems.append(_("The shift of %(start)s has started.") % {"start": _when(row.start, policy)})
    if shift.user_id != swap.requester_id:
        problems.append(_("The shift is no longer %(person)s's.") % {"person": swap.requester})
    if swap.kind == SwapKind.TRADE:
        if counter is None:
            problems.append(_("A trade needs one of the colleague's shifts in exchange."))
        elif counter.user_id != swap.colleague_id:
            problems.append(_("The shift taken in exchange is not %(person)s's.") % {"person": swap.colleague})
    start, end = swap.window()
    if not (shift.start <= start < end <= shift.end):
        problems.append(_("The part given must lie within the shift (%(start)s – %(end)s).") % {
            "start": _when(shift.start, policy), "end": _when(shift.end, policy)})
    if swap.requester_id == swap.colleague_id:
        problems.append(_("A swap is made with someone else."))
    problems += qualification_problems(swap.colleague, shift)
    if counter is not None:
        problems += qualification_problems(swap.requester, counter)
    if problems:
        return problems
    nearby = _nearby_shifts(swap, policy)
    return _overlap_and_rest_problems(swap, policy, nearby) + _coverage_problems(swap, policy, nearby)


# --- Asking for a swap -----------------------------------------------------------------------------------


def may_request_swaps(user: Any) -> bool:
    """People on duty (engineers, duty officers, supervisors) swap shifts; auditors and departments do not."""
    return bool(user and user.is_active and has_role(user, *roles.ENGINEERS, roles.DUTY_OFFICER, roles.SUPERVISOR))


def _input_errors(*, requester: User, colleague: User | None, shift: Shift, kind: str, reason: str,
                  part_start: datetime | None, part_end: datetime | None, counter_shift: Shift | None,
                  policy: DutyPolicy) -> dict[str, list[str]]:
    errors: dict[str, list[str]] = {}
    if not (reason or "").strip():
        errors["reason"] = [_("Say why you ask for the swap.")]
    if colleague is None:
        errors["colleague"] = [_("Choose the colleague who takes the shift.")]
    elif colleague.pk == requester.pk:
        errors["colleague"] = [_("A swap is made with someone else: choose a colleague.")]
    if kind not in SwapKind.values:
        errors["kind"] = [_("Give the shift or trade it.")]
    if kind == SwapKind.TRADE:
        if counter_shift is None:
            errors["counter_shift"] = [_("Choose the colleague's shift you take in exchange.")]
        elif counter_shift.pk == shift.pk:
            errors["counter_shift"] = [_("Choose another shift than the one you give.")]
        elif colleague is not None and counter_shift.user_id != colleague.pk:
            errors["counter_shift"] = [_("That shift is not %(person)s's.") % {"person": colleague}]
        if part_start or part_end:
            errors["part_start"] = [_("A trade exchanges whole shifts: leave the part empty.")]
    elif counter_shift is not None:
        errors["counter_shift"] = [_("Only a trade takes a shift in exchange.")]
    start, end = part_start or shift.start, part_end or shift.end
    if not (shift.start <= start < end <= shift.end):
        field = "part_end" if shift.start <= start < shift.end else "part_start"
        errors.setdefault(field, []).append(_("The part given must lie within the shift (%(start)s – %(end)s).") % {
            "start": _when(shift.start, policy), "end": _when(shift.end, policy)})
    return errors


def swap_request(*, by: Any, shift: Shift, colleague: User | None, reason: str, kind: str = SwapKind.GIVE,
                 part_start: datetime | None = None, part_end: datetime | None = None,
                 counter_shift: Shift | None = None) -> SwapRequest:
    """Ask a colleague to take a shift (or a part of it) or to trade it for one of theirs. The requester is whoever
    holds the shift: its own holder, or a supervisor acting for them (recorded as `created_by`). Refused: by
    anyone else (403); with oneself, a part outside the shift or a counter-shift not the colleague's (400); later
    than the policy's lead time, for a shift started or not published, to someone not qualified, or making an
    overlap, a short rest, a long stint or a coverage gap (409)."""
    if not may_request_swaps(by):
        raise TransitionForbidden(_("Only people on duty and supervisors ask for shift swaps."))
    requester = shift.user
    if requester.pk != by.pk and not has_role(by, roles.SUPERVISOR):
        raise TransitionForbidden(_("You may only offer your own shifts (a supervisor may act for someone)."),
                                  code="not_your_shift")
    policy = DutyPolicy.current()
    errors = _input_errors(requester=requester, colleague=colleague, shift=shift, kind=kind, reason=reason,
                           part_start=part_start, part_end=part_end, counter_shift=counter_shift, policy=policy)
    if errors:
        raise InvalidInput(errors)
    if part_start == shift.start:
        part_start = None
    if part_end == shift.end:
        part_end = None
    with transaction.atomic():
        locked = {row.pk: row for row in Shift.objects.select_for_update().filter(
            pk__in=[shift.pk, *([counter_shift.pk] if counter_shift else [])]).order_by("pk")}
        shift = Shift.objects.select_related("roster", "team", "user").get(pk=shift.pk)
        counter_shift = (Shift.objects.select_related("roster", "team", "user").get(pk=counter_shift.pk)
                         if counter_shift is not None and counter_shift.pk in locked else None)
        swap = SwapRequest(kind=kind, requester=requester, colleague=colleague, shift=shift, part_start=part_start,
                           part_end=part_end, counter_shift=counter_shift, reason=reason.strip(), created_by=by,
                           expires_at=min(s.start for s in (shift, counter_shift) if s is not None))
        problems = swap_problems(swap)
        earliest = swap.expires_at
        if earliest - timezone.now() < timedelta(hours=policy.swap_lead_hours) and earliest > timezone.now():
            problems.insert(0, _("A swap is asked for at least %(hours)d hours before the shift (it starts at "
                                 "%(start)s).") % {"hours": policy.swap_lead_hours, "start": _when(earliest, policy)})
        if SwapRequest.objects.filter(state__in=OPEN_STATES).filter(
                Q(shift__in=locked) | Q(counter_shift__in=locked)).exists():
            problems.append(_("One of these shifts already has an open swap request: wait for it or cancel it."))
        if problems:
            raise ConditionFailed(" ".join(problems))
        return ticket_create(swap, user=by, log_data={"on_behalf_of": requester.pk} if by.pk != requester.pk else {})


# --- Transitions and the roster change -------------------------------------------------------------------


def _apply_to_roster(swap: SwapRequest) -> list[int]:
    """The roster as approved, in the approval's transaction (the shifts are locked): a whole shift changes
    hands, a part splits the shift (the row given keeps its id; what is left to the requester is new rows),
    a trade exchanges the two. Reminders already sent for a row that changed hands are forgotten, so that its
    new holder is reminded. Returns the ids of the rows written."""
    shift = Shift.objects.select_for_update().get(pk=swap.shift_id)
    start, end = swap.window()
    written = [shift.pk]
    remainders = [(shift.start, start), (end, shift.end)]
    for left, right in remainders:
        if left < right:
            rest = Shift(roster_id=shift.roster_id, team_id=shift.team_id, shift_type_id=shift.shift_type_id,
                         role=shift.role, user_id=swap.requester_id, start=left, end=right)
            rest.save()
            written.append(rest.pk)
    Shift.objects.filter(pk=shift.pk).update(user_id=swap.colleague_id, start=start, end=end)
    changed_hands = [shift.pk]
    if swap.kind == SwapKind.TRADE and swap.counter_shift_id:
        Shift.objects.filter(pk=swap.counter_shift_id).update(user_id=swap.requester_id)
        written.append(swap.counter_shift_id)
        changed_hands.append(swap.counter_shift_id)
    renew(Shift)  # update() sends no signal
    ShiftReminder.objects.filter(shift_id__in=changed_hands).delete()
    return written


def _lock_shifts(swap: SwapRequest) -> None:
    """Lock the swap's shifts, always in the order of their ids (two approvals touching one shift wait in turn)."""
    ids = [swap.shift_id, *([swap.counter_shift_id] if swap.counter_shift_id else [])]
    list(Shift.objects.select_for_update().filter(pk__in=ids).order_by("pk").values_list("pk", flat=True))


def swap_transition(swap: SwapRequest, name: str, *, user: Any, comment: str = "",
                    data: dict[str, Any] | None = None) -> SwapRequest:
    """Accept, decline, approve, reject or cancel a swap through the kernel's transition service (403 not this
    person's, 409 wrong state, 409 with the reasons when the swap is no longer possible, 400 a rejection without
    its reason); an approval changes the roster in the same transaction. The swap's checks run on the row the
    kernel locks (the model's condition `swap_still_valid`, explained by `swap_problems`)."""

    def apply(locked: SwapRequest, log: Any) -> None:
        if name == "approve":
            _apply_to_roster(locked)

    with transaction.atomic():
        _lock_shifts(swap)
        return perform_transition(swap, name, user=user, comment=comment, data=data, then=apply)


def swaps_expire(*, now: datetime | None = None, limit: int = 500) -> list[int]:
    """The sweep: requests still waiting for the colleague or a supervisor when their earliest shift starts
    expire, once each (a second run finds none); the requester and the colleague are told."""
    from duty.receivers import swaps_expired

    now = now or timezone.now()
    with transaction.atomic():
        ids = perform_bulk_transition(SwapRequest.objects.filter(expires_at__lte=now).order_by("expires_at", "pk"),
                                      "expire", limit=limit)
        if ids:
            swaps_expired(ids)
    return ids


# --- Reading ---------------------------------------------------------------------------------------------


def swap_list(*, user: Any) -> models.QuerySet:
    """The swaps the user may read, with the people and shifts a list row shows."""
    return SwapRequest.objects.visible_to(user).select_related(*SWAP_RELATIONS)


def waiting_for(user: Any, swaps: models.QuerySet | None = None) -> models.QuerySet:
    """Swaps waiting for this person: to accept (asked of them) or, for a supervisor, to approve (not their own)."""
    swaps = swap_list(user=user) if swaps is None else swaps
    if not getattr(user, "is_authenticated", False):
        return swaps.none()
    waiting = Q(state=SwapState.REQUESTED, colleague=user)
    if has_role(user, roles.SUPERVISOR):
        waiting |= Q(state=SwapState.ACCEPTED) & ~Q(requester=user) & ~Q(colleague=user)
    return swaps.filter(waiting)


def swap_queue(*, user: Any, queue: str) -> models.QuerySet:
    swaps = swap_list(user=user)
    if queue == "waiting":
        return waiting_for(user, swaps)
    if queue == "mine":
        return swaps.filter(Q(requester=user) | Q(colleague=user) | Q(created_by=user))
    return swaps


def swap_candidates(shift: Shift) -> models.QuerySet:
    """Who may take the shift: active people holding its role in its team, its holder apart."""
    return (User.objects.filter(is_active=True, teams=shift.team_id, groups__name=shift.role)
            .exclude(pk=shift.user_id).distinct().order_by("first_name", "last_name", "username"))


def counter_shift_candidates(shift: Shift, *, now: datetime | None = None, limit: int = 200) -> models.QuerySet:
    """Shifts the requester could take in exchange: qualified colleagues' published shifts of the same team and
    role, far enough ahead to be asked for."""
    now = now or timezone.now()
    lead = timedelta(hours=DutyPolicy.current().swap_lead_hours)
    return (Shift.objects.published().filter(team_id=shift.team_id, role=shift.role, start__gte=now + lead,
                                             user__in=swap_candidates(shift))
            .exclude(pk=shift.pk).select_related("user").order_by("start", "pk")[:limit])


def swappable_shifts(user: Any, *, now: datetime | None = None, limit: int = 20) -> models.QuerySet:
    """The user's next published shifts, far enough ahead to be offered."""
    now = now or timezone.now()
    lead = timedelta(hours=DutyPolicy.current().swap_lead_hours)
    return (Shift.objects.published().filter(user=user, start__gte=now + lead).select_related("team")
            .order_by("start", "pk")[:limit])
