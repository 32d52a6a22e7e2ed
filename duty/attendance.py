"""Attendance (按時到崗, 不得擅自離崗): checking in and out of a shift, lateness, and the sweep that marks absent
whoever has not checked in by the policy's limit and tells the supervisors and the backup, once.

The backup of an absent person is whoever can cover at once: the person of the same team and role whose shift
ends as the absent one starts and who is still on site (checked in and not out: they may not leave before the
handover is acknowledged, and the absent person cannot acknowledge it); failing that, the team's next person on
duty within a day (the same role first, then the earliest start), who may be called in early. With neither, only
the supervisors are told. The supervisors told are those in the shift's team, or every supervisor when the team
has none.
"""

from datetime import datetime, timedelta
from typing import Any

from django.db import transaction
from django.db.models import Case, F, IntegerField, OuterRef, Q, QuerySet, Subquery, Value, When
from django.db.models.functions import Coalesce
from django.urls import reverse
from django.utils import timezone

from duty.choices import Attendance
from duty.handovers import leave_refusal, with_leave_facts
from duty.models import DutyPolicy, Shift
from duty.notifications import ABSENT, ABSENT_BACKUP, ARRIVED_AFTER_ABSENCE
from opscenter.core import roles
from opscenter.core.exceptions import ConditionFailed
from opscenter.core.models import TransitionLog, User
from opscenter.core.notification_kinds import timestamp
from opscenter.core.outbox import active_endpoints, build_notifications, notify, write_notifications
from opscenter.core.selectors import role_members
from opscenter.core.services import check_transition, perform_bulk_transition, perform_transition

SWEEP_BATCH = 200
# How far ahead the team's next person on duty is looked for as a backup.
BACKUP_HORIZON = timedelta(hours=24)
# What a page reads with each shift.
SHIFT_RELATED = ("team", "user", "roster", "shift_type")


# --- Checking in and out ----------------------------------------------------------------------------------------


def shift_check_in(shift: Shift, *, user: Any, comment: str = "") -> Shift:
    """按時到崗: the person (or a supervisor for them, recorded as the actor) checks in from the policy's minutes
    before the start until the end; after the grace period the minutes late are counted. A check-in after the
    sweep marked the shift absent records the arrival, and those told of the absence hear of it."""

    def arrived(locked: Shift, log: TransitionLog) -> None:
        if log.source_state == Attendance.ABSENT:
            _announce_arrival(locked)

    return perform_transition(shift, "check_in", user=user, comment=comment, then=arrived)


def _leave_refused(shift: Shift, exc: ConditionFailed) -> ConditionFailed:
    return ConditionFailed(leave_refusal(shift) or exc.detail, code="handover_not_acknowledged")


def shift_check_out(shift: Shift, *, user: Any, comment: str = "") -> Shift:
    """不得擅自離崗: the person (or a supervisor for them) checks out once the incoming person has acknowledged the
    handover, or when nobody takes over; a refusal names who must acknowledge what."""
    try:
        return perform_transition(shift, "check_out", user=user, comment=comment)
    except ConditionFailed as exc:
        raise _leave_refused(shift, exc) from exc


def check_attendance(shift: Shift, name: str, *, user: Any) -> None:
    """Refuse a check-in or check-out as its service would, before anything is read or done (the kernel's
    check_transition; a check-out that waits for the handover names who must acknowledge what)."""
    try:
        check_transition(shift, name, user=user)
    except ConditionFailed as exc:
        if name != "check_out":
            raise
        raise _leave_refused(shift, exc) from exc


ATTENDANCE_SERVICES = {"check_in": shift_check_in, "check_out": shift_check_out}


def attendance_transition(shift: Shift, name: str, *, user: Any, comment: str = "") -> Shift:
    """Check in or out through its service; any other name is refused as perform_transition refuses it."""
    service = ATTENDANCE_SERVICES.get(name)
    if service is None:
        return perform_transition(shift, name, user=user, comment=comment)
    return service(shift, user=user, comment=comment)


# --- Reading ------------------------------------------------------------------------------------------------------


def attendance_shifts(*, user: Any) -> QuerySet[Shift]:
    """Published shifts the user may read (IT staff and auditors), with what a page or the API shows (whether
    their person may leave included)."""
    return with_leave_facts(Shift.objects.visible_to(user).published().select_related(*SHIFT_RELATED))


def my_shifts(user: Any, *, now: datetime | None = None) -> tuple[list[Shift], Shift | None]:
    """The user's shifts in play now (check-in open and not ended, or checked in and not yet out: the person stays
    until the handover is acknowledged) and their next shift after those, in one query."""
    now = now or timezone.now()
    early = timedelta(minutes=DutyPolicy.current().check_in_early_minutes)
    rows = list(with_leave_facts(Shift.objects.published().filter(user=user).filter(
        Q(end__gt=now) | Q(attendance=Attendance.ON_DUTY))).select_related(*SHIFT_RELATED).order_by("start", "pk")[:6])
    current = [s for s in rows if s.attendance == Attendance.ON_DUTY or s.start - early <= now < s.end]
    upcoming = next((s for s in rows if s not in current and s.start > now), None)
    return current, upcoming


def current_shift_of(user: Any, *, now: datetime | None = None) -> Shift | None:
    """The shift a person's duty-log entries belong to now: the one they are checked in for, else the one that
    covers the moment."""
    now = now or timezone.now()
    return (Shift.objects.published().filter(user=user).filter(
        Q(attendance=Attendance.ON_DUTY) | Q(start__lte=now, end__gt=now))
        .order_by(Case(When(attendance=Attendance.ON_DUTY, then=Value(0)), default=Value(1),
                       output_field=IntegerField()), "-start", "pk").select_related("team").first())


# --- The absence sweep --------------------------------------------------------------------------------------------


def _backup() -> Coalesce:
    """The backup of the shift of `OuterRef`: still on site from the shift before, else next on duty (in the same
    role, else in any)."""
    on_site = (Shift.objects.published().filter(
        team=OuterRef("team"), role=OuterRef("role"), attendance=Attendance.ON_DUTY, start__lt=OuterRef("start"),
        end__gte=OuterRef("start")).exclude(user=OuterRef("user")).order_by("-end", "pk").values("user")[:1])
    next_on_duty = (Shift.objects.published().filter(
        team=OuterRef("team"), start__gt=OuterRef("start"), start__lte=OuterRef("start") + BACKUP_HORIZON)
        .exclude(user=OuterRef("user")).exclude(attendance=Attendance.ABSENT).order_by("start", "pk"))
    same_role = next_on_duty.filter(role=OuterRef("role"))
    return Coalesce(Subquery(on_site), Subquery(same_role.values("user")[:1]),
                    Subquery(next_on_duty.values("user")[:1]))


def absence_due(now: datetime, policy: DutyPolicy) -> QuerySet[Shift]:
    """Published shifts still expected whose check-in limit has passed."""
    limit = now - timedelta(minutes=policy.absent_after_minutes)
    return Shift.objects.published().filter(attendance=Attendance.EXPECTED, start__lte=limit)


def _team_supervisors(team_ids: set[int]) -> dict[int, list[User]]:
    """The supervisors in each of the teams (one query); a team without one gets every supervisor."""
    found: dict[int, list[User]] = {pk: [] for pk in team_ids}
    for user in (User.objects.filter(groups__name=roles.SUPERVISOR, is_active=True, teams__in=team_ids)
                 .annotate(team_id=F("teams")).order_by("pk")):
        found[user.team_id].append(user)
    everyone = None
    for team_id, people in found.items():
        if not people:
            everyone = everyone if everyone is not None else role_members(roles.SUPERVISOR)
            found[team_id] = everyone
    return found


def _absence_params(shift: Shift, *, now: datetime, backup: User | None) -> dict[str, Any]:
    return {"id": shift.pk, "person": str(shift.user), "team": str(shift.team), "start_at": timestamp(shift.start),
            "minutes": int((now - shift.start).total_seconds() // 60), "backup": str(backup) if backup else "—"}


def shifts_mark_absent(*, now: datetime | None = None) -> int:
    """The sweep: mark absent every published shift not checked in by the policy's limit, and tell the team's
    supervisors (and, while the shift runs, its backup) once; returns how many shifts were marked.

    Each batch moves its rows with perform_bulk_transition (locked, a conditional UPDATE from `expected`, one log
    INSERT) in the transaction that writes the outbox rows: a sweep that runs twice, late, or beside another one
    marks and tells each shift once."""
    now = now or timezone.now()
    policy = DutyPolicy.current()
    marked = 0
    while True:
        with transaction.atomic():
            ids = perform_bulk_transition(absence_due(now, policy).order_by("start", "pk"), "mark_absent",
                                          data={"absence_notified_at": now}, limit=SWEEP_BATCH)
            if not ids:
                return marked
            shifts = list(Shift.objects.filter(pk__in=ids).select_related("team", "user")
                          .annotate(backup_id=_backup()).order_by("start", "pk"))
            backups = User.objects.in_bulk({s.backup_id for s in shifts if s.backup_id})
            supervisors = _team_supervisors({s.team_id for s in shifts})
            endpoints, link, rows = active_endpoints(), reverse("duty:my-duty"), []
            for shift in shifts:  # the batch's outbox rows, written at once
                backup = backups.get(shift.backup_id)
                params = _absence_params(shift, now=now, backup=backup)
                rows += build_notifications(
                    kind=ABSENT, recipients=[u for u in supervisors[shift.team_id] if u.pk != shift.user_id],
                    params=params, link=link, endpoints=endpoints)
                if backup is not None and shift.end > now:
                    rows += build_notifications(kind=ABSENT_BACKUP, recipients=[backup], params=params, link=link,
                                                endpoints=endpoints)
            write_notifications(rows)
            marked += len(ids)


def _announce_arrival(shift: Shift) -> None:
    """Whoever was told of the absence hears that the person has arrived (the supervisors, and the backup)."""
    shift = Shift.objects.select_related("team", "user").annotate(backup_id=_backup()).get(pk=shift.pk)
    recipients = [u for u in _team_supervisors({shift.team_id})[shift.team_id] if u.pk != shift.user_id]
    if shift.backup_id:
        recipients += list(User.objects.filter(pk=shift.backup_id))
    notify(kind=ARRIVED_AFTER_ABSENCE, recipients=recipients,
           params={"id": shift.pk, "person": str(shift.user), "team": str(shift.team),
                   "start_at": timestamp(shift.start), "minutes": shift.late_minutes},
           link=reverse("duty:my-duty"))
