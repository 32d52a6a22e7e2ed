"""Roster services: a supervisor generates a team's roster for a period from its rotations, regenerates a draft's
future shifts, edits single assignments (change the person or the times, add, remove a shift), accepts the
coverage check's findings, publishes and withdraws — one way for the pages, the API and the admin.

Refused with nothing changed: anyone but a supervisor (403); a published roster's shifts, or a shift that has
started (409: the past is not rewritten); overlapping shifts for one person, a shift that ends before it starts
or lasts longer than a shift can, a period longer than a quarter or taken by another roster of the team, a
person who does not hold the shift's role (400, naming the field). Shifts are concrete rows: editing a rotation
changes none of them, and regenerating a draft replaces only its shifts that have not started."""

from collections import defaultdict
from collections.abc import Iterable, Sequence
from datetime import date, datetime
from typing import Any

from django.contrib.contenttypes.models import ContentType
from django.db import transaction
from django.db.models import ProtectedError
from django.utils import timezone
from django.utils.translation import gettext as _

from duty.choices import RosterState
from duty.coverage import forget_findings, roster_findings
from duty.models import DUTY_ROLES, DutyPolicy, Roster, Rotation, Shift, ShiftType
from duty.periods import LONGEST_PERIOD_DAYS, LONGEST_SHIFT, days, local_day, shift_times
from opscenter.core import roles
from opscenter.core.caching import renew
from opscenter.core.exceptions import InvalidInput, InvalidState, TransitionForbidden
from opscenter.core.formatting import local_datetime
from opscenter.core.models import FieldChange, Team, TransitionLog
from opscenter.core.roles import has_role
from opscenter.core.services import perform_transition

OFF = "off"  # a rotation's day without a shift
SHOWN_CONFLICTS = 5  # overlaps named in one refusal


def may_edit_rosters(user: Any) -> bool:
    """Supervisors (運維主管) generate, edit and publish rosters; everyone else reads them."""
    return bool(user and user.is_authenticated and user.is_active and has_role(user, roles.SUPERVISOR))


def _check_supervisor(user: Any) -> None:
    if not may_edit_rosters(user):
        raise TransitionForbidden(_("Only a supervisor generates and edits rosters."))


def _lock(roster: Roster) -> Roster:
    """The roster's row locked for the edit, refused unless it is a draft."""
    locked = Roster.objects.select_for_update(of=("self",)).select_related("team").get(pk=roster.pk)
    if locked.state != RosterState.DRAFT:
        raise InvalidState(_("The roster is published: withdraw it for editing first."), code="published")
    return locked


# --- Generating ---------------------------------------------------------------------------------------------


def check_period(first_day: date, last_day: date) -> None:
    """A period runs forwards and is at most a quarter long."""
    if last_day < first_day:
        raise InvalidInput({"last_day": [_("The last day comes before the first day.")]}, code="end_before_start")
    if (last_day - first_day).days + 1 > LONGEST_PERIOD_DAYS:
        raise InvalidInput({"last_day": [_("A roster covers at most %(days)d days.") % {
            "days": LONGEST_PERIOD_DAYS}]}, code="period_too_long")


def _check_period_free(team: Team, first_day: date, last_day: date, *, exclude: int | None = None) -> None:
    taken = Roster.objects.filter(team=team, first_day__lte=last_day, last_day__gte=first_day)
    if exclude is not None:
        taken = taken.exclude(pk=exclude)
    other = taken.order_by("first_day").first()
    if other is not None:
        raise InvalidInput({"first_day": [_("The team already has a roster for %(period)s.") % {
            "period": f"{other.first_day:%Y-%m-%d} – {other.last_day:%Y-%m-%d}"}]}, code="period_taken")


def _rotations(team: Team, rotations: Iterable[Rotation] | None) -> list[Rotation]:
    """The rotations to generate from (by default the team's active ones), with their members, checked: the
    team's, a pattern of the team's active shift type codes and days off, members holding the rotation's role."""
    chosen = list(rotations) if rotations is not None else None
    wanted = Rotation.objects.filter(pk__in=[r.pk for r in chosen]) if chosen is not None else \
        Rotation.objects.filter(team=team, is_active=True)
    found = list(wanted.prefetch_related("members__user").order_by("name", "pk"))
    if not found:
        raise InvalidInput({"rotations": [_("The team has no active rotation to generate the roster from.")]},
                           code="no_rotation")
    codes = set(ShiftType.objects.filter(team=team, is_active=True).values_list("code", flat=True))
    problems = []
    for rotation in found:
        if rotation.team_id != team.pk:
            problems.append(_("%(rotation)s is not a rotation of this team.") % {"rotation": rotation})
            continue
        pattern = rotation.pattern if isinstance(rotation.pattern, list) else []
        unknown = sorted({str(code) for code in pattern if code != OFF and code not in codes})
        if not pattern or unknown:
            problems.append(_("%(rotation)s: its pattern names no active shift type of the team: %(codes)s.") % {
                "rotation": rotation, "codes": ", ".join(unknown) or "—"})
        for member in rotation.members.all():
            if not _qualified(member.user, rotation.role):
                problems.append(_("%(person)s does not hold the role %(role)s of %(rotation)s.") % {
                    "person": member.user, "role": rotation.get_role_display(), "rotation": rotation})
    if problems:
        raise InvalidInput({"rotations": problems}, code="invalid_rotation")
    return found


def _qualified(user: Any, role: str) -> bool:
    return bool(user.is_active and has_role(user, role))


def planned_shifts(roster: Roster, rotations: Sequence[Rotation], *, after: datetime | None = None,
                   zone: Any = None) -> list[Shift]:
    """The shifts the rotations give for the roster's days (those starting after `after`, when given), unsaved:
    member n is on the pattern's entry (days since the rotation's first day + their offset), so that one roster
    after another carries the pattern on."""
    zone = zone or DutyPolicy.current().zone
    types = {t.code: t for t in ShiftType.objects.filter(team_id=roster.team_id, is_active=True)}
    shifts = []
    for rotation in rotations:
        pattern = rotation.pattern
        for member in rotation.members.all():
            for day in days(roster.first_day, roster.last_day):
                code = pattern[((day - rotation.starts_on).days + member.offset) % len(pattern)]
                if code == OFF:
                    continue
                start, end = shift_times(types[code], day, zone)
                if after is not None and start <= after:
                    continue
                shifts.append(Shift(roster=roster, team_id=roster.team_id, shift_type=types[code],
                                    role=rotation.role, user=member.user, start=start, end=end))
    return shifts


def _check_no_overlap(new: Sequence[Shift], *, keep: Iterable[int] = (), zone: Any) -> None:
    """Refuse (400 `overlap`) shifts that put one person on two shifts at once, among themselves or with the
    person's other shifts on any roster (other than the shifts `keep` excludes: the ones being replaced)."""
    if not new:
        return
    people = {s.user_id for s in new}
    low = min(s.start for s in new) - LONGEST_SHIFT
    high = max(s.end for s in new)
    existing = Shift.objects.filter(user_id__in=people, start__lt=high, end__gt=low).exclude(
        pk__in=[pk for pk in keep]).select_related("user")
    by_person: dict[int, list[Shift]] = defaultdict(list)
    for shift in [*new, *existing]:
        by_person[shift.user_id].append(shift)
    clashes = []
    for shifts in by_person.values():
        shifts.sort(key=lambda s: (s.start, s.end))
        latest = None
        for shift in shifts:
            if latest is not None and shift.start < latest.end:
                clashes.append((latest, shift))
            if latest is None or shift.end > latest.end:
                latest = shift
    if clashes:
        with timezone.override(zone):
            messages = [_("%(person)s would be on two shifts at once: %(first)s and %(second)s.") % {
                "person": b.user, "first": _span_text(a), "second": _span_text(b)}
                for a, b in clashes[:SHOWN_CONFLICTS]]
        if len(clashes) > SHOWN_CONFLICTS:
            messages.append(_("… and %(count)d more.") % {"count": len(clashes) - SHOWN_CONFLICTS})
        raise InvalidInput({"shifts": messages}, code="overlap")


def _span_text(shift: Shift) -> str:
    return f"{local_datetime(shift.start)} – {local_datetime(shift.end)}"


def roster_generate(*, user: Any, team: Team, first_day: date, last_day: date,
                    rotations: Iterable[Rotation] | None = None) -> Roster:
    """A draft roster of the team for the period, its shifts made from the rotations (by default the team's
    active ones). The period is at most a quarter and no other roster of the team covers a day of it."""
    _check_supervisor(user)
    check_period(first_day, last_day)
    if not team.is_active:
        raise InvalidInput({"team": [_("The team is not active.")]})
    policy = DutyPolicy.current()
    with transaction.atomic():
        Team.objects.select_for_update().filter(pk=team.pk).first()  # one generation per team at a time
        _check_period_free(team, first_day, last_day)
        chosen = _rotations(team, rotations)
        roster = Roster(team=team, first_day=first_day, last_day=last_day, created_by=user)
        shifts = planned_shifts(roster, chosen, zone=policy.zone)
        _check_no_overlap(shifts, zone=policy.zone)
        roster.save()
        for shift in shifts:
            shift.roster = roster
        Shift.objects.bulk_create(shifts)
        renew(Shift)  # bulk_create sends no signal
        TransitionLog.objects.create(
            content_type=ContentType.objects.get_for_model(Roster), object_id=roster.pk, transition="create",
            source_state="", target_state=roster.state, actor=user,
            data={"rotations": [r.pk for r in chosen], "shifts": len(shifts)})
    return roster


def roster_regenerate(roster: Roster, *, user: Any, rotations: Iterable[Rotation] | None = None,
                      now: datetime | None = None) -> Roster:
    """Make a draft's shifts that have not started again from the rotations as they are now; the shifts that
    have started stay as they were. Any acceptance of the findings is taken back."""
    _check_supervisor(user)
    now = now or timezone.now()
    policy = DutyPolicy.current()
    with transaction.atomic():
        locked = _lock(roster)
        chosen = _rotations(locked.team, rotations)
        future = Shift.objects.filter(roster=locked, start__gt=now)
        replaced = list(future.values_list("pk", flat=True))
        shifts = planned_shifts(locked, chosen, after=now, zone=policy.zone)
        _check_no_overlap(shifts, keep=replaced, zone=policy.zone)
        try:
            Shift.objects.filter(pk__in=replaced).delete()
        except ProtectedError as exc:
            raise InvalidState(_("Some shifts that have not started are part of swap requests, handovers or the "
                                 "duty log: edit them one by one instead."), code="protected") from exc
        Shift.objects.bulk_create(shifts)
        renew(Shift)  # bulk_create sends no signal
        _edited(locked, user=user, old=_("%(count)d shifts not yet started") % {"count": len(replaced)},
                new=_("%(count)d shifts from %(rotations)s") % {
                    "count": len(shifts), "rotations": ", ".join(r.name for r in chosen)})
    forget_findings(roster)
    return locked


def _edited(roster: Roster, *, user: Any, old: str, new: str) -> None:
    """Record an edit of the roster's shifts on its timeline and take back any acceptance of its findings: they
    were accepted as they stood."""
    FieldChange.objects.create(content_type=ContentType.objects.get_for_model(Roster), object_id=roster.pk,
                               field="shifts", old_value=old, new_value=new, actor=user)
    if roster.findings_accepted_at is not None:
        Roster.objects.filter(pk=roster.pk).update(findings_accepted_at=None, findings_accepted_by=None,
                                                   findings_note="")
        roster.findings_accepted_at, roster.findings_accepted_by, roster.findings_note = None, None, ""


# --- Single assignments -------------------------------------------------------------------------------------


SHIFT_FIELDS = ("user", "role", "start", "end", "shift_type")


def _check_shift(shift: Shift, roster: Roster, *, now: datetime, zone: Any, keep: int | None = None) -> None:
    """What a shift must be: ending after it starts and no longer than a shift can be, starting in the future on
    a day of the roster, the team's shift type, a person holding the role, and no overlap with their shifts."""
    if shift.end <= shift.start:
        raise InvalidInput({"end": [_("A shift ends after it starts.")]}, code="end_before_start")
    if shift.end - shift.start > LONGEST_SHIFT:
        raise InvalidInput({"end": [_("A shift lasts at most %(hours)d hours.") % {
            "hours": LONGEST_SHIFT.total_seconds() // 3600}]}, code="too_long")
    if shift.start <= now:
        raise InvalidInput({"start": [_("A shift is added or moved only before it starts.")]}, code="in_the_past")
    if not roster.first_day <= local_day(shift.start, zone) <= roster.last_day:
        raise InvalidInput({"start": [_("The shift starts outside the roster's period (%(period)s).") % {
            "period": f"{roster.first_day:%Y-%m-%d} – {roster.last_day:%Y-%m-%d}"}]}, code="outside_period")
    if shift.role not in dict(DUTY_ROLES):
        raise InvalidInput({"role": [_("Choose one of the duty roles.")]})
    if shift.shift_type_id is not None and shift.shift_type.team_id != roster.team_id:
        raise InvalidInput({"shift_type": [_("Choose a shift type of the roster's team.")]})
    if not _qualified(shift.user, shift.role):
        raise InvalidInput({"user": [_("%(person)s does not hold the role %(role)s.") % {
            "person": shift.user, "role": shift.get_role_display()}]}, code="not_qualified")
    _check_no_overlap([shift], keep=[keep] if keep else [], zone=zone)


def _shift_text(shift: Shift, zone: Any) -> str:
    with timezone.override(zone):
        code = shift.shift_type.code if shift.shift_type_id else "—"
        return f"{shift.user} · {shift.get_role_display()} · {code} · {_span_text(shift)}"


def shift_add(roster: Roster, *, user: Any, person: Any, role: str, start: datetime, end: datetime,
              shift_type: ShiftType | None = None, now: datetime | None = None) -> Shift:
    """Add a shift to a draft roster."""
    _check_supervisor(user)
    now = now or timezone.now()
    zone = DutyPolicy.current().zone
    with transaction.atomic():
        locked = _lock(roster)
        shift = Shift(roster=locked, team_id=locked.team_id, user=person, role=role, start=start, end=end,
                      shift_type=shift_type)
        _check_shift(shift, locked, now=now, zone=zone)
        shift.save()
        _edited(locked, user=user, old="", new=_shift_text(shift, zone))
    forget_findings(roster)
    return shift


def _lock_shift(shift: Shift, now: datetime) -> tuple[Roster, Shift]:
    """The shift's draft roster and the shift locked for an edit, refused once the shift has started."""
    roster = _lock(shift.roster)
    locked = Shift.objects.select_for_update(of=("self",)).select_related("user", "shift_type").get(pk=shift.pk)
    if locked.start <= now:
        raise InvalidState(_("The shift has started: the past of a roster is not rewritten."), code="shift_started")
    return roster, locked


def shift_update(shift: Shift, *, user: Any, changes: dict[str, Any], now: datetime | None = None) -> Shift:
    """Change a shift of a draft roster that has not started: its person, role, times or shift type."""
    _check_supervisor(user)
    refused = sorted(set(changes) - set(SHIFT_FIELDS))
    if refused:
        raise InvalidInput({name: [_("This field cannot be changed here.")] for name in refused})
    now = now or timezone.now()
    zone = DutyPolicy.current().zone
    with transaction.atomic():
        locked_roster, locked = _lock_shift(shift, now)
        before = _shift_text(locked, zone)
        for name, value in changes.items():
            setattr(locked, name, value)
        _check_shift(locked, locked_roster, now=now, zone=zone, keep=locked.pk)
        after = _shift_text(locked, zone)
        if after == before:
            return locked
        locked.save(update_fields=[*changes])
        _edited(locked_roster, user=user, old=before, new=after)
    forget_findings(shift.roster)
    return locked


def shift_delete(shift: Shift, *, user: Any, now: datetime | None = None) -> None:
    """Remove a shift of a draft roster that has not started."""
    _check_supervisor(user)
    now = now or timezone.now()
    zone = DutyPolicy.current().zone
    with transaction.atomic():
        locked_roster, locked = _lock_shift(shift, now)
        before = _shift_text(locked, zone)
        try:
            locked.delete()
        except ProtectedError as exc:
            raise InvalidState(_("The shift is part of a swap request, a handover or the duty log: change its "
                                 "person or times instead."), code="protected") from exc
        _edited(locked_roster, user=user, old=before, new="")
    forget_findings(shift.roster)


# --- Transitions --------------------------------------------------------------------------------------------


def roster_transition(roster: Roster, name: str, *, user: Any, comment: str = "",
                      data: dict[str, Any] | None = None) -> Roster:
    """Publish, withdraw, or accept the findings (with the note that says why): the kernel's transition service.
    Accepting writes the findings accepted, as they read now, to the transition's log."""
    data = dict(data or {})
    data.pop("accepted", None)
    if name == "accept_findings":
        with timezone.override(DutyPolicy.current().zone):
            data["accepted"] = [finding.text() for finding in roster_findings(roster)]
    done = perform_transition(roster, name, user=user, comment=comment, data=data)
    forget_findings(roster)
    return done

