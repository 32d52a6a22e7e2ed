"""The roster's findings (值班制度, 7×24 coverage): the minutes of its period not covered to the headcount each role
needs by the team's shift types, stints longer than the policy's maximum hours in a row (a person's back-to-back
shifts counting as one stint), and rests shorter than the policy's minimum. They are listed on the roster and block
publishing it until resolved or accepted by a supervisor with a note (`Roster.publish`'s condition).

Demand: every active shift type of the team with required headcount, once for each day of the roster (a shift type
starting on the last day counts in full, even past midnight). Supply: the roster's shifts of each role. Stints and
rests also read the person's shifts on other published rosters near the period, so that the night before the 1st
counts against the day shift of the 1st."""

from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from django.utils.translation import gettext as _

from duty.choices import FindingKind, RosterState
from duty.models import DutyPolicy, Roster, Shift, ShiftRequirement
from duty.periods import LONGEST_SHIFT, days, period_bounds, shift_times
from opscenter.core.formatting import humanise_duration, local_datetime
from opscenter.core.roles import ROLE_LABELS


@dataclass(frozen=True)
class Finding:
    """One thing the coverage check lists: a gap in a role's headcount, or a person's over-long stint or short
    rest, from `start` to `end`."""

    kind: str
    start: datetime
    end: datetime
    role: str = ""
    required: int = 0
    present: int = 0
    user_id: int | None = None
    person: str = ""
    limit_hours: int = 0

    @property
    def duration(self) -> timedelta:
        return self.end - self.start

    @property
    def role_label(self) -> str:
        return str(ROLE_LABELS.get(self.role, self.role))

    @property
    def kind_label(self) -> str:
        return str(FindingKind(self.kind).label)

    def text(self) -> str:
        """The finding in a sentence, its times in the active time zone (the duty pages activate the policy's)."""
        values = {"start": local_datetime(self.start), "end": local_datetime(self.end), "role": self.role_label,
                  "person": self.person, "length": humanise_duration(self.duration), "limit": self.limit_hours,
                  "required": self.required, "present": self.present}
        if self.kind == FindingKind.GAP:
            return _("%(role)s: %(present)d of %(required)d on duty from %(start)s to %(end)s.") % values
        if self.kind == FindingKind.STINT:
            return _("%(person)s is on duty %(length)s in a row, from %(start)s to %(end)s (at most %(limit)d h).") \
                % values
        return _("%(person)s rests only %(length)s, from %(start)s to %(end)s (at least %(limit)d h).") % values

    def as_dict(self) -> dict[str, Any]:
        return {"kind": self.kind, "start": self.start, "end": self.end, "role": self.role,
                "required": self.required, "present": self.present, "user": self.user_id, "person": self.person,
                "limit_hours": self.limit_hours, "text": self.text()}


@dataclass(frozen=True)
class Span:
    """A shift as the check reads it."""

    start: datetime
    end: datetime
    user_id: int
    role: str
    roster_id: int
    person: str


def roster_findings(roster: Roster) -> list[Finding]:
    """The roster's findings as its shifts, its team's shift types and the policy stand now (worked out once per
    roster object: `attach_findings` works them out for many)."""
    if "_findings" not in roster.__dict__:
        attach_findings([roster])
    return roster.__dict__["_findings"]


def forget_findings(roster: Roster) -> None:
    """Work the findings out again on the next ask (after the roster's shifts changed)."""
    roster.__dict__.pop("_findings", None)


def attach_findings(rosters: Iterable[Roster], *, policy: DutyPolicy | None = None) -> None:
    """Work out the findings of several rosters together (a list's drafts): at most four queries whatever their
    number — the policy, the teams' requirements, the rosters' shifts (unless prefetched as `shifts` with their
    people) and the same people's shifts on other published rosters around the periods."""
    todo = [r for r in rosters if "_findings" not in r.__dict__]
    if not todo:
        return
    policy = policy or DutyPolicy.current()
    zone = policy.zone
    requirements: dict[int, list[ShiftRequirement]] = defaultdict(list)
    for requirement in ShiftRequirement.objects.filter(
            shift_type__team_id__in={r.team_id for r in todo}, shift_type__is_active=True,
    ).select_related("shift_type"):
        requirements[requirement.shift_type.team_id].append(requirement)

    own: dict[int, list[Span]] = {}
    missing = [r.pk for r in todo if "shifts" not in getattr(r, "_prefetched_objects_cache", {})]
    fetched: dict[int, list[Shift]] = defaultdict(list)
    if missing:
        for shift in Shift.objects.filter(roster_id__in=missing).select_related("user"):
            fetched[shift.roster_id].append(shift)
    for roster in todo:
        shifts = fetched[roster.pk] if roster.pk in missing else list(roster.shifts.all())
        own[roster.pk] = [_span(s) for s in shifts]

    margin = timedelta(hours=max(policy.max_hours_in_row, policy.min_rest_hours)) + LONGEST_SHIFT
    people = {span.user_id for spans in own.values() for span in spans}
    around: dict[int, list[Span]] = defaultdict(list)
    if people:
        bounds = [period_bounds(r.first_day, r.last_day, zone) for r in todo]
        low = min(start for start, _end in bounds) - margin
        high = max(end for _start, end in bounds) + LONGEST_SHIFT + margin
        for shift in Shift.objects.filter(
                user_id__in=people, roster__state=RosterState.PUBLISHED, start__lt=high, end__gt=low,
        ).exclude(roster_id__in=[r.pk for r in todo]).select_related("user"):
            around[shift.user_id].append(_span(shift))

    for roster in todo:
        spans = own[roster.pk]
        demand = [
            (start, end, requirement.role, requirement.headcount)
            for requirement in requirements[roster.team_id]
            for day in days(roster.first_day, roster.last_day)
            for start, end in [shift_times(requirement.shift_type, day, zone)]
        ]
        findings = coverage_gaps(demand, spans)
        mine = {span.user_id for span in spans}
        others = [span for user_id in mine for span in around[user_id]]
        findings += stints_and_rests([*spans, *others], roster_id=roster.pk, max_hours=policy.max_hours_in_row,
                                     min_rest_hours=policy.min_rest_hours)
        findings.sort(key=lambda f: (f.start, f.kind, f.role, f.person))
        roster.__dict__["_findings"] = findings


def _span(shift: Shift) -> Span:
    return Span(shift.start, shift.end, shift.user_id, shift.role, shift.roster_id, str(shift.user))


def coverage_gaps(demand: Sequence[tuple[datetime, datetime, str, int]], spans: Sequence[Span]) -> list[Finding]:
    """The stretches where a role has fewer people on duty than the shift types require, one finding per stretch
    with the same headcount required and present."""
    found: list[Finding] = []
    for role in sorted({role for _start, _end, role, _n in demand}):
        steps: dict[datetime, list[int]] = defaultdict(lambda: [0, 0])
        for start, end, wanted, count in demand:
            if wanted == role:
                steps[start][0] += count
                steps[end][0] -= count
        for span in spans:
            if span.role == role:
                steps[span.start][1] += 1
                steps[span.end][1] -= 1
        times = sorted(steps)
        required = present = 0
        for moment, following in zip(times, times[1:], strict=False):
            required += steps[moment][0]
            present += steps[moment][1]
            if present >= required:
                continue
            last = found[-1] if found else None
            if last and last.role == role and last.end == moment and (last.required, last.present) == (
                    required, present):
                found[-1] = Finding(FindingKind.GAP, last.start, following, role, required, present)
            else:
                found.append(Finding(FindingKind.GAP, moment, following, role, required, present))
    return found


def stints_and_rests(spans: Sequence[Span], *, roster_id: int, max_hours: int,
                     min_rest_hours: int) -> list[Finding]:
    """Each person's stints (shifts back to back, or overlapping, are one stint) longer than `max_hours`, and the
    breaks between two stints shorter than `min_rest_hours`, where one of the roster's own shifts is part of it."""
    longest = timedelta(hours=max_hours)
    shortest = timedelta(hours=min_rest_hours)
    by_person: dict[int, list[Span]] = defaultdict(list)
    for span in spans:
        by_person[span.user_id].append(span)
    found = []
    for user_id, mine in by_person.items():
        mine.sort(key=lambda s: (s.start, s.end))
        stints: list[tuple[datetime, datetime, bool, str]] = []  # start, end, holds one of the roster's shifts
        for span in mine:
            own = span.roster_id == roster_id
            if stints and span.start <= stints[-1][1]:
                start, end, had, person = stints[-1]
                stints[-1] = (start, max(end, span.end), had or own, person)
            else:
                stints.append((span.start, span.end, own, span.person))
        for start, end, own, person in stints:
            if own and end - start > longest:
                found.append(Finding(FindingKind.STINT, start, end, user_id=user_id, person=person,
                                     limit_hours=max_hours))
        for (_s, end, own_before, person), (start, _e, own_after, _p) in zip(stints, stints[1:], strict=False):
            if (own_before or own_after) and start - end < shortest:
                found.append(Finding(FindingKind.REST, end, start, user_id=user_id, person=person,
                                     limit_hours=min_rest_hours))
    return found
