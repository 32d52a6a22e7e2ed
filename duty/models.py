"""7×24 duty (值班制度, DESIGN §4 "Duty", §5 "Time").

The center's duty policy (one row), shift types per team with the headcount each role needs, rotations that
generate rosters, and the roster's shifts stored as concrete rows (start, end, person, role): the one source for
who is on duty, reminders, attendance, feeds and reports. Swaps (調班) are requests with their own state machine,
applied to the shifts atomically on a supervisor's approval. The duty log is append-only; a handover is written
by the outgoing person and acknowledged by the incoming one.

Times are stored in UTC; a shift type's start is a wall-clock time in the policy's time zone, so a roster over a
daylight-saving change has shifts of 23 or 25 hours where the wall clock says 24.
"""

import datetime
import zoneinfo
from typing import Any

from django.conf import settings
from django.core.cache import cache
from django.core.exceptions import ValidationError
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models, transaction
from django.db.models import F, Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django_fsm import ConcurrentTransitionMixin, FSMField, transition

from duty.choices import Attendance, HandoverState, LogKind, RosterState, SwapKind, SwapState
from opscenter.core import roles
from opscenter.core.exceptions import TransitionForbidden
from opscenter.core.models import AppendOnlyModel, append_only_triggers
from opscenter.core.public_holidays import UNKNOWN_REGION, knows_region
from opscenter.core.roles import has_role
from opscenter.core.workflow import supervisors_only

# The roles a shift can be staffed in: a person qualifies for a shift's role by holding that role.
DUTY_ROLES = [(role, roles.ROLE_LABELS[role]) for role in (
    roles.DUTY_OFFICER, roles.SYSTEM_ENGINEER, roles.NETWORK_ENGINEER, roles.DESKTOP_ENGINEER, roles.SUPERVISOR)]


def _authenticated(user: Any) -> bool:
    return bool(user and getattr(user, "is_authenticated", False) and user.is_active)


def _is_supervisor(user: Any) -> bool:
    return _authenticated(user) and has_role(user, roles.SUPERVISOR)


# --- The policy -----------------------------------------------------------------------------------------


class DutyPolicy(models.Model):
    """The center's duty rules (one row, edited by supervisors in the admin)."""

    time_zone = models.CharField(
        _("time zone"), max_length=64, default=settings.TIME_ZONE,
        help_text=_("Shift types start at wall-clock times of this zone (e.g. Asia/Shanghai or Asia/Taipei)."))
    swap_lead_hours = models.PositiveIntegerField(
        _("swap lead time (hours)"), default=24,
        help_text=_("A swap must be requested at least this long before the shift starts."))
    max_hours_in_row = models.PositiveIntegerField(
        _("longest stint (hours)"), default=24, validators=[MinValueValidator(1)],
        help_text=_("Longer unbroken duty by one person is listed on the roster and blocks publishing."))
    min_rest_hours = models.PositiveIntegerField(
        _("shortest rest (hours)"), default=8,
        help_text=_("A shorter break between two of a person's shifts is listed and blocks publishing."))
    check_in_early_minutes = models.PositiveIntegerField(
        _("check-in opens (minutes before the shift)"), default=60)
    late_grace_minutes = models.PositiveIntegerField(_("late after (minutes)"), default=10)
    absent_after_minutes = models.PositiveIntegerField(
        _("absent after (minutes)"), default=30,
        help_text=_("Not checked in this long after the start: absent; the supervisor and the backup are told."))
    reminder_leads_minutes = models.JSONField(
        _("reminders (minutes before the shift)"), default=list, blank=True,
        help_text=_("For example [720, 30]: a reminder 12 hours and one 30 minutes before each shift."))
    # remind: how the reports split hours on duty (night hours, public holidays).
    night_starts_at = models.TimeField(_("night starts at"), default=datetime.time(20, 0),
                                       help_text=_("Hours on duty from this wall-clock time count as night hours."))
    night_ends_at = models.TimeField(_("night ends at"), default=datetime.time(8, 0),
                                     help_text=_("… until this time the next morning."))
    holiday_country = models.CharField(
        _("public holidays of"), max_length=8, blank=True,
        help_text=_("A country code of the holidays package, e.g. CN, TW, HK: hours on its public holidays count "
                    "as holiday hours."))
    holiday_subdivision = models.CharField(_("region"), max_length=16, blank=True)

    class Meta:
        verbose_name = _("duty policy")
        verbose_name_plural = _("duty policy")

    def __str__(self) -> str:
        return str(_("Duty policy"))

    def save(self, *args: Any, **kwargs: Any) -> None:
        super().save(*args, **kwargs)
        _forget_policy()

    def delete(self, *args: Any, **kwargs: Any) -> Any:
        deleted = super().delete(*args, **kwargs)
        _forget_policy()
        return deleted

    def clean(self) -> None:
        if self.time_zone not in zoneinfo.available_timezones():
            raise ValidationError({"time_zone": _("Give a time zone of the IANA database, e.g. Asia/Taipei.")})
        leads = self.reminder_leads_minutes
        if not isinstance(leads, list) or not all(isinstance(v, int) and 0 < v <= 7 * 24 * 60 for v in leads):
            raise ValidationError({"reminder_leads_minutes": _(
                "Give a list of whole minutes between 1 and 10080, e.g. [720, 30].")})
        if self.night_starts_at == self.night_ends_at:
            raise ValidationError({"night_ends_at": _("Night ends at another time than it starts.")})
        if self.holiday_country and not knows_region(self.holiday_country, self.holiday_subdivision):
            raise ValidationError({"holiday_country": UNKNOWN_REGION})

    @property
    def zone(self) -> zoneinfo.ZoneInfo:
        return zoneinfo.ZoneInfo(self.time_zone)

    @classmethod
    def current(cls) -> "DutyPolicy":
        """The policy row (made with the defaults by the app's data migration; an unsaved default otherwise), kept
        in Django's cache until it is saved or deleted through the model, an hour at most (a change made without
        `save()` shows within the hour): every shift's check-in condition reads it, and a list of shifts would
        otherwise read it once per row."""
        policy = cache.get(POLICY_CACHE_KEY)
        if policy is None:
            policy = cls.objects.order_by("pk").first() or cls(reminder_leads_minutes=[720, 30])
            if policy.pk is not None:
                cache.set(POLICY_CACHE_KEY, policy, timeout=3600)
        return policy

POLICY_CACHE_KEY = "duty-policy"


def _forget_policy() -> None:
    """The cached policy is dropped now and again once the transaction commits (a concurrent reader may have
    cached the old row meanwhile)."""
    cache.delete(POLICY_CACHE_KEY)
    transaction.on_commit(lambda: cache.delete(POLICY_CACHE_KEY))


# --- Shift types and rotations --------------------------------------------------------------------------


class ShiftType(models.Model):
    """A kind of shift of a team: day 08:00–20:00, night 20:00–08:00, or one of three shifts."""

    team = models.ForeignKey("core.Team", verbose_name=_("team"), on_delete=models.CASCADE,
                             related_name="shift_types")
    code = models.SlugField(_("code"), max_length=32)
    name = models.CharField(_("name"), max_length=80)
    start_time = models.TimeField(_("starts at"), help_text=_("Wall-clock time in the duty policy's time zone."))
    duration_minutes = models.PositiveIntegerField(
        _("length (minutes)"), validators=[MinValueValidator(15), MaxValueValidator(24 * 60)])
    is_active = models.BooleanField(_("active"), default=True)

    class Meta:
        ordering = ["team", "start_time", "code"]
        verbose_name = _("shift type")
        verbose_name_plural = _("shift types")
        constraints = [models.UniqueConstraint(fields=["team", "code"], name="shift_type_code_per_team")]

    def __str__(self) -> str:
        return f"{self.team} · {self.name}"


class ShiftRequirement(models.Model):
    """How many people of a role a shift type needs (a night shift: one duty officer, one system engineer)."""

    shift_type = models.ForeignKey(ShiftType, verbose_name=_("shift type"), on_delete=models.CASCADE,
                                   related_name="requirements")
    role = models.CharField(_("role"), max_length=32, choices=DUTY_ROLES)
    headcount = models.PositiveSmallIntegerField(_("headcount"), default=1, validators=[MinValueValidator(1)])

    class Meta:
        ordering = ["shift_type", "role"]
        verbose_name = _("required headcount")
        verbose_name_plural = _("required headcount")
        constraints = [models.UniqueConstraint(fields=["shift_type", "role"], name="shift_requirement_once")]

    def __str__(self) -> str:
        return f"{self.shift_type}: {self.headcount} × {self.get_role_display()}"


class Rotation(models.Model):
    """How a team's people take turns: a pattern of shift types and days off (day, day, night, night, off, off)
    that each member follows from their own offset. Editing a rotation never changes shifts already made."""

    team = models.ForeignKey("core.Team", verbose_name=_("team"), on_delete=models.CASCADE,
                             related_name="rotations")
    name = models.CharField(_("name"), max_length=80)
    role = models.CharField(_("role"), max_length=32, choices=DUTY_ROLES,
                            help_text=_("The role its members are on duty in."))
    pattern = models.JSONField(
        _("pattern"), default=list,
        help_text=_('One entry per day: a shift type code of the team, or "off"; e.g. ["day", "day", "night", '
                    '"night", "off", "off"].'))
    is_active = models.BooleanField(_("active"), default=True)
    # roster: the day the pattern is counted from, so that one roster after another follows the pattern on.
    starts_on = models.DateField(
        _("pattern counted from"), default=timezone.localdate,
        help_text=_("On this day a member at offset 0 is on the pattern's first entry; rosters generated later "
                    "carry the pattern on from here, month after month."))

    class Meta:
        ordering = ["team", "name"]
        verbose_name = _("rotation")
        verbose_name_plural = _("rotations")
        constraints = [models.UniqueConstraint(fields=["team", "name"], name="rotation_name_per_team")]

    def __str__(self) -> str:
        return f"{self.team} · {self.name}"


class RotationMember(models.Model):
    """A person in a rotation, in order: member n starts the pattern `offset` days in (by default n)."""

    rotation = models.ForeignKey(Rotation, verbose_name=_("rotation"), on_delete=models.CASCADE,
                                 related_name="members")
    user = models.ForeignKey(settings.AUTH_USER_MODEL, verbose_name=_("person"), on_delete=models.PROTECT,
                             related_name="+")
    position = models.PositiveSmallIntegerField(_("order"), default=0)
    offset = models.PositiveSmallIntegerField(_("starts the pattern at day"), default=0)

    class Meta:
        ordering = ["rotation", "position", "pk"]
        verbose_name = _("rotation member")
        verbose_name_plural = _("rotation members")
        constraints = [models.UniqueConstraint(fields=["rotation", "user"], name="rotation_member_once")]

    def __str__(self) -> str:
        return f"{self.rotation}: {self.user}"


# --- Rosters and shifts ---------------------------------------------------------------------------------


def coverage_resolved(roster: "Roster") -> bool:
    """Every minute of the period is covered to the required headcount, with no over-long stint or short rest,
    or the supervisor has accepted what remains."""
    from duty.coverage import roster_findings

    return roster.findings_accepted_at is not None or not roster_findings(roster)


coverage_resolved.reason = _(  # type: ignore[attr-defined]
    "The roster has coverage gaps, over-long stints or short rests: resolve them or accept them first.")


def has_findings(roster: "Roster") -> bool:
    """There are findings to accept: gaps, over-long stints or short rests, not accepted yet."""
    from duty.coverage import roster_findings

    return roster.findings_accepted_at is None and bool(roster_findings(roster))


has_findings.reason = _(  # type: ignore[attr-defined]
    "The roster has no finding to accept (or they are accepted already).")


class Roster(ConcurrentTransitionMixin, models.Model):
    """A team's duty for a period (from the first day to the last, in the policy's time zone). Its shifts count
    for who is on duty, reminders and attendance once it is published."""

    STATE_FIELD = "state"

    team = models.ForeignKey("core.Team", verbose_name=_("team"), on_delete=models.PROTECT,
                             related_name="rosters")
    first_day = models.DateField(_("first day"))
    last_day = models.DateField(_("last day"))
    state = FSMField(_("state"), max_length=16, choices=RosterState.choices, default=RosterState.DRAFT,
                     protected=True)
    findings_accepted_at = models.DateTimeField(_("findings accepted at"), null=True, blank=True, editable=False)
    findings_accepted_by = models.ForeignKey(settings.AUTH_USER_MODEL, verbose_name=_("findings accepted by"),
                                             null=True, blank=True, on_delete=models.PROTECT, related_name="+",
                                             editable=False)
    findings_note = models.TextField(_("why the findings are accepted"), blank=True, editable=False)
    published_at = models.DateTimeField(_("published at"), null=True, blank=True, editable=False)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, verbose_name=_("created by"), on_delete=models.PROTECT,
                                   related_name="+")
    created_at = models.DateTimeField(_("created at"), default=timezone.now, editable=False)

    class Meta:
        ordering = ["-first_day", "team"]
        verbose_name = _("roster")
        verbose_name_plural = _("rosters")
        constraints = [
            models.CheckConstraint(condition=Q(last_day__gte=F("first_day")), name="roster_period_order"),
            models.UniqueConstraint(fields=["team", "first_day"], name="roster_once_per_team_and_start"),
        ]

    def __str__(self) -> str:
        return f"{self.team} {self.first_day:%Y-%m-%d}–{self.last_day:%Y-%m-%d}"

    @transition(field=state, source=RosterState.DRAFT, target=RosterState.PUBLISHED,
                conditions=[coverage_resolved],
                permission=supervisors_only(_("Only a supervisor publishes a roster.")),
                custom={"label": _("Publish the roster")})
    def publish(self, *, by: Any = None) -> None:
        """The roster's shifts count from now on: who is on duty, reminders, attendance, feeds."""
        self.published_at = timezone.now()

    @transition(field=state, source=RosterState.PUBLISHED, target=RosterState.DRAFT,
                permission=supervisors_only(_("Only a supervisor withdraws a roster.")),
                custom={"label": _("Withdraw for editing"),
                        "comment_required": _("Say why the published roster is withdrawn.")})
    def withdraw(self, *, by: Any = None) -> None:
        """Back to draft: its shifts stop counting until it is published again."""
        self.published_at = None

    # --- roster: accepting the findings, and the roster as the kernel's detail page reads it ---

    @transition(field=state, source=RosterState.DRAFT, target=RosterState.DRAFT,
                conditions=[has_findings],
                permission=supervisors_only(_("Only a supervisor accepts a roster's findings.")),
                custom={"label": _("Accept the findings"),
                        "description": _("Publish the roster with the gaps, long stints and short rests listed "
                                         "on it; the note says why they are acceptable.")})
    def accept_findings(self, *, by: Any = None, note: str, accepted: list | None = None) -> None:
        """The supervisor accepts the findings listed now (`accepted`, written to the log by the service); any
        later edit of the roster takes the acceptance back."""
        if not (note or "").strip():
            raise ValidationError({"note": _("Say why the findings are acceptable.")})
        self.findings_accepted_at, self.findings_accepted_by, self.findings_note = timezone.now(), by, note.strip()

    @property
    def is_read_only(self) -> bool:
        """A roster is never closed: a published one is withdrawn to be edited."""
        return False


class ShiftQuerySet(models.QuerySet):
    def published(self) -> "ShiftQuerySet":
        return self.filter(roster__state=RosterState.PUBLISHED)

    def at(self, moment) -> "ShiftQuerySet":  # noqa: ANN001
        return self.filter(start__lte=moment, end__gt=moment)

    def visible_to(self, user: Any) -> "ShiftQuerySet":
        """IT staff and auditors read every roster; department users read none."""
        if has_role(user, *roles.IT_STAFF, roles.AUDITOR):
            return self
        return self.none()


def _is_assignee(shift: "Shift", user: Any) -> bool:
    return _authenticated(user) and shift.user_id == user.pk


def _attendance_refusal(shift: "Shift", user: Any) -> Exception | None:
    if _is_assignee(shift, user) or _is_supervisor(user):
        return None
    return TransitionForbidden(_("Only the person on the shift (or a supervisor for them) checks in and out."),
                               code="not_your_shift")


def may_attend(shift: "Shift", user: Any) -> bool:
    return _attendance_refusal(shift, user) is None


may_attend.refusal = _attendance_refusal  # type: ignore[attr-defined]


def check_in_open(shift: "Shift") -> bool:
    """Check-in opens the policy's minutes before the shift and closes when it ends."""
    from datetime import timedelta

    now = timezone.now()
    return shift.start - timedelta(minutes=DutyPolicy.current().check_in_early_minutes) <= now < shift.end


check_in_open.reason = _("Check-in opens shortly before the shift starts and closes when it ends.")  # type: ignore[attr-defined]


def on_published_roster(shift: "Shift") -> bool:
    return shift.roster.state == RosterState.PUBLISHED


on_published_roster.reason = _("The shift's roster is not published.")  # type: ignore[attr-defined]


def handover_acknowledged(shift: "Shift") -> bool:
    """不得擅自離崗: whoever comes next has acknowledged the handover (a last shift with nobody after it may go)."""
    from duty.handovers import may_leave

    return may_leave(shift)


handover_acknowledged.reason = _(  # type: ignore[attr-defined]
    "Write the handover and wait until the incoming person has acknowledged it before you check out.")


class Shift(ConcurrentTransitionMixin, models.Model):
    """One person on duty in one role from start to end: the one source of who is on duty."""

    STATE_FIELD = "attendance"

    roster = models.ForeignKey(Roster, verbose_name=_("roster"), on_delete=models.CASCADE, related_name="shifts")
    team = models.ForeignKey("core.Team", verbose_name=_("team"), on_delete=models.PROTECT, related_name="+")
    shift_type = models.ForeignKey(ShiftType, verbose_name=_("shift type"), null=True, blank=True,
                                   on_delete=models.SET_NULL, related_name="+")
    role = models.CharField(_("role"), max_length=32, choices=DUTY_ROLES)
    user = models.ForeignKey(settings.AUTH_USER_MODEL, verbose_name=_("person"), on_delete=models.PROTECT,
                             related_name="shifts")
    start = models.DateTimeField(_("starts"))
    end = models.DateTimeField(_("ends"))
    attendance = FSMField(_("attendance"), max_length=16, choices=Attendance.choices, default=Attendance.EXPECTED,
                          protected=True)
    checked_in_at = models.DateTimeField(_("checked in at"), null=True, blank=True, editable=False)
    checked_out_at = models.DateTimeField(_("checked out at"), null=True, blank=True, editable=False)
    late_minutes = models.PositiveIntegerField(_("late (minutes)"), default=0, editable=False)
    absence_notified_at = models.DateTimeField(_("absence reported at"), null=True, blank=True, editable=False)

    objects = ShiftQuerySet.as_manager()

    class Meta:
        ordering = ["start", "team", "role", "user"]
        verbose_name = _("shift")
        verbose_name_plural = _("shifts")
        constraints = [models.CheckConstraint(condition=Q(end__gt=F("start")), name="shift_ends_after_start")]
        indexes = [
            models.Index(fields=["team", "start", "end"], name="shift_team_time"),
            models.Index(fields=["user", "start"], name="shift_user_time"),
            models.Index(fields=["start"], name="shift_start"),
            # attend: the absence sweep reads the shifts still expected, by start (a small part of the table).
            models.Index(fields=["start"], condition=Q(attendance=Attendance.EXPECTED), name="shift_expected_start"),
        ]

    def __str__(self) -> str:
        return f"{self.user} · {self.get_role_display()} · {timezone.localtime(self.start):%Y-%m-%d %H:%M}"

    def clean(self) -> None:
        if self.start and self.end and self.end <= self.start:
            raise ValidationError({"end": _("A shift ends after it starts.")})

    @transition(field=attendance, source=[Attendance.EXPECTED, Attendance.ABSENT], target=Attendance.ON_DUTY,
                conditions=[on_published_roster, check_in_open], permission=may_attend,
                custom={"label": _("Check in")})
    def check_in(self, *, by: Any = None) -> None:
        """按時到崗: the arrival time is recorded; after the grace period the minutes late are counted."""
        now = timezone.now()
        self.checked_in_at = now
        grace = DutyPolicy.current().late_grace_minutes
        late = int((now - self.start).total_seconds() // 60)
        self.late_minutes = late if late > grace else 0

    @transition(field=attendance, source=Attendance.ON_DUTY, target=Attendance.DONE,
                conditions=[handover_acknowledged], permission=may_attend, custom={"label": _("Check out")})
    def check_out(self, *, by: Any = None) -> None:
        self.checked_out_at = timezone.now()

    @transition(field=attendance, source=Attendance.EXPECTED, target=Attendance.ABSENT,
                custom={"label": _("Mark absent"), "internal": True})
    def mark_absent(self, *, by: Any = None, absence_notified_at: Any = None) -> None:
        """The sweep (many at once, by perform_bulk_transition, which writes `absence_notified_at`): not checked in
        by the policy's limit; when the supervisor and the backup are told."""
        self.absence_notified_at = absence_notified_at or timezone.now()


# --- Swaps (調班) ---------------------------------------------------------------------------------------


class SwapQuerySet(models.QuerySet):
    def visible_to(self, user: Any) -> "SwapQuerySet":
        """Supervisors and auditors read every swap; others the ones they asked for or were asked to take."""
        if has_role(user, roles.SUPERVISOR, roles.AUDITOR):
            return self
        if not _authenticated(user):
            return self.none()
        return self.filter(Q(requester=user) | Q(colleague=user))


def _colleague_refusal(swap: "SwapRequest", user: Any) -> Exception | None:
    if _authenticated(user) and (user.pk == swap.colleague_id or _is_supervisor(user)):
        return None
    return TransitionForbidden(_("Only the colleague asked (or a supervisor for them) answers a swap request."),
                               code="not_the_colleague")


def may_answer(swap: "SwapRequest", user: Any) -> bool:
    return _colleague_refusal(swap, user) is None


may_answer.refusal = _colleague_refusal  # type: ignore[attr-defined]


def _requester_refusal(swap: "SwapRequest", user: Any) -> Exception | None:
    if _authenticated(user) and (user.pk == swap.requester_id or _is_supervisor(user)):
        return None
    return TransitionForbidden(_("Only whoever asked for the swap (or a supervisor) cancels it."),
                               code="not_the_requester")


def may_cancel(swap: "SwapRequest", user: Any) -> bool:
    return _requester_refusal(swap, user) is None


may_cancel.refusal = _requester_refusal  # type: ignore[attr-defined]


def _approver_refusal(swap: "SwapRequest", user: Any) -> Exception | None:
    if not _is_supervisor(user):
        return TransitionForbidden(_("Only a supervisor approves or rejects a swap."))
    if user.pk in (swap.requester_id, swap.colleague_id):
        return TransitionForbidden(_("A supervisor does not approve a swap of their own (segregation of duties)."),
                                   code="segregation_of_duties")
    return None


def may_decide(swap: "SwapRequest", user: Any) -> bool:
    return _approver_refusal(swap, user) is None


may_decide.refusal = _approver_refusal  # type: ignore[attr-defined]


def swap_still_valid(swap: "SwapRequest") -> bool:
    """The shifts have not started, the colleague is qualified, and the roster stays covered and rested."""
    from duty.swaps import swap_problems

    return not swap_problems(swap)


swap_still_valid.reason = _(  # type: ignore[attr-defined]
    "The swap is no longer possible: a shift has started, a person is not qualified, or it would leave a gap "
    "or too short a rest.")


def _swap_refusal(swap: "SwapRequest") -> str:
    from duty.swaps import swap_problems

    return " ".join(swap_problems(swap))


swap_still_valid.explain = _swap_refusal  # type: ignore[attr-defined]


class SwapRequest(ConcurrentTransitionMixin, models.Model):
    """調班: the requester gives a shift (or part of it) to a colleague, or trades it for one of theirs; the
    colleague accepts; a supervisor approves, and the roster changes on both sides at once."""

    STATE_FIELD = "state"

    kind = models.CharField(_("kind"), max_length=8, choices=SwapKind.choices, default=SwapKind.GIVE)
    requester = models.ForeignKey(settings.AUTH_USER_MODEL, verbose_name=_("requested by"),
                                  on_delete=models.PROTECT, related_name="swaps_requested")
    colleague = models.ForeignKey(settings.AUTH_USER_MODEL, verbose_name=_("colleague"), on_delete=models.PROTECT,
                                  related_name="swaps_offered")
    shift = models.ForeignKey(Shift, verbose_name=_("shift given"), on_delete=models.PROTECT,
                              related_name="swaps_given")
    part_start = models.DateTimeField(_("part from"), null=True, blank=True,
                                      help_text=_("Blank: from the shift's start."))
    part_end = models.DateTimeField(_("part until"), null=True, blank=True,
                                    help_text=_("Blank: to the shift's end."))
    counter_shift = models.ForeignKey(Shift, verbose_name=_("shift taken in exchange"), null=True, blank=True,
                                      on_delete=models.PROTECT, related_name="swaps_taken")
    reason = models.TextField(_("reason"))
    state = FSMField(_("state"), max_length=16, choices=SwapState.choices, default=SwapState.REQUESTED,
                     protected=True)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, verbose_name=_("recorded by"),
                                   on_delete=models.PROTECT, related_name="+",
                                   help_text=_("A supervisor acting for the requester is recorded here."))
    created_at = models.DateTimeField(_("requested at"), default=timezone.now, editable=False)
    expires_at = models.DateTimeField(_("expires at"), editable=False,
                                      help_text=_("When the earliest of its shifts starts."))
    decided_by = models.ForeignKey(settings.AUTH_USER_MODEL, verbose_name=_("decided by"), null=True, blank=True,
                                   on_delete=models.PROTECT, related_name="+", editable=False)
    decided_at = models.DateTimeField(_("decided at"), null=True, blank=True, editable=False)

    objects = SwapQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at"]
        verbose_name = _("shift swap")
        verbose_name_plural = _("shift swaps")
        constraints = [
            models.CheckConstraint(condition=~Q(requester=F("colleague")), name="swap_not_with_oneself"),
            models.CheckConstraint(
                condition=Q(part_start__isnull=True) | Q(part_end__isnull=True) | Q(part_end__gt=F("part_start")),
                name="swap_part_order"),
        ]
        indexes = [models.Index(fields=["state", "expires_at"], name="swap_open_expiry")]

    def __str__(self) -> str:
        return f"{self.requester} → {self.colleague} · {self.shift}"

    @property
    def is_read_only(self) -> bool:
        """Decided, withdrawn or expired: nothing more happens to it."""
        return self.state not in (SwapState.REQUESTED, SwapState.ACCEPTED)

    def window(self) -> tuple[Any, Any]:
        """The time given away: the part, or the whole shift."""
        return self.part_start or self.shift.start, self.part_end or self.shift.end

    @transition(field=state, source=SwapState.REQUESTED, target=SwapState.ACCEPTED,
                conditions=[swap_still_valid], permission=may_answer, custom={"label": _("Accept the swap")})
    def accept(self, *, by: Any = None) -> None:
        """The colleague agrees; the request goes to the supervisor."""

    @transition(field=state, source=SwapState.REQUESTED, target=SwapState.REJECTED, permission=may_answer,
                custom={"label": _("Decline the swap")})
    def decline(self, *, by: Any = None) -> None:
        """The colleague says no."""

    @transition(field=state, source=SwapState.ACCEPTED, target=SwapState.APPROVED,
                conditions=[swap_still_valid], permission=may_decide, custom={"label": _("Approve the swap")})
    def approve(self, *, by: Any = None) -> None:
        """如有特殊情況需要調班,必須提前向運維主管申請並獲得批準: the service applies it to the roster."""
        self.decided_by, self.decided_at = by, timezone.now()

    @transition(field=state, source=[SwapState.REQUESTED, SwapState.ACCEPTED], target=SwapState.REJECTED,
                permission=may_decide,
                custom={"label": _("Reject the swap"), "comment_required": _("Say why the swap is rejected.")})
    def reject(self, *, by: Any = None) -> None:
        self.decided_by, self.decided_at = by, timezone.now()

    @transition(field=state, source=[SwapState.REQUESTED, SwapState.ACCEPTED], target=SwapState.CANCELLED,
                permission=may_cancel, custom={"label": _("Cancel the request")})
    def cancel(self, *, by: Any = None) -> None:
        """The requester withdraws."""

    @transition(field=state, source=[SwapState.REQUESTED, SwapState.ACCEPTED], target=SwapState.EXPIRED,
                custom={"label": _("Expire"), "internal": True})
    def expire(self, *, by: Any = None) -> None:
        """The sweep: the shift started before the request was decided."""


# --- The duty log and handovers -------------------------------------------------------------------------


class DutyLogEntry(AppendOnlyModel):
    """What happened during a shift (alarms handled, faults reported, calls, who was informed); never changed."""

    shift = models.ForeignKey(Shift, verbose_name=_("shift"), null=True, blank=True, on_delete=models.PROTECT,
                              related_name="log_entries")
    author = models.ForeignKey(settings.AUTH_USER_MODEL, verbose_name=_("recorded by"), on_delete=models.PROTECT,
                               related_name="+")
    occurred_at = models.DateTimeField(_("time"), default=timezone.now)
    recorded_at = models.DateTimeField(_("recorded at"), default=timezone.now, editable=False)
    kind = models.CharField(_("kind"), max_length=16, choices=LogKind.choices, default=LogKind.OTHER)
    text = models.TextField(_("what happened"))
    informed = models.CharField(_("who was informed"), max_length=200, blank=True)
    incidents = models.ManyToManyField("incidents.Incident", verbose_name=_("incidents"), blank=True,
                                       related_name="+")
    changes = models.ManyToManyField("changes.Change", verbose_name=_("changes"), blank=True, related_name="+")

    class Meta:
        ordering = ["-occurred_at", "-pk"]
        verbose_name = _("duty log entry")
        verbose_name_plural = _("duty log")
        indexes = [models.Index(fields=["occurred_at"], name="dutylog_time")]
        triggers = append_only_triggers()

    def __str__(self) -> str:
        return f"{timezone.localtime(self.occurred_at):%Y-%m-%d %H:%M} · {self.get_kind_display()}"


def _incoming_refusal(handover: "Handover", user: Any) -> Exception | None:
    incoming = handover.incoming_shift
    if _authenticated(user) and handover.written_by_id == user.pk:
        return TransitionForbidden(_("Whoever hands over does not acknowledge their own handover."),
                                   code="own_handover")
    if _authenticated(user) and ((incoming is not None and incoming.user_id == user.pk) or _is_supervisor(user)):
        return None
    return TransitionForbidden(_("Only the incoming person (or a supervisor for them) acknowledges the handover."),
                               code="not_incoming")


def may_acknowledge(handover: "Handover", user: Any) -> bool:
    return _incoming_refusal(handover, user) is None


may_acknowledge.refusal = _incoming_refusal  # type: ignore[attr-defined]


class Handover(ConcurrentTransitionMixin, models.Model):
    """交接班: the outgoing person's summary and what is carried over (open incidents, changes in progress, and
    whatever other apps add), acknowledged by the incoming person."""

    STATE_FIELD = "state"

    shift = models.OneToOneField(Shift, verbose_name=_("outgoing shift"), on_delete=models.PROTECT,
                                 related_name="handover")
    incoming_shift = models.ForeignKey(Shift, verbose_name=_("incoming shift"), null=True, blank=True,
                                       on_delete=models.PROTECT, related_name="handovers_received")
    summary = models.TextField(_("summary"))
    written_by = models.ForeignKey(settings.AUTH_USER_MODEL, verbose_name=_("written by"), on_delete=models.PROTECT,
                                   related_name="+")
    written_at = models.DateTimeField(_("written at"), default=timezone.now, editable=False)
    state = FSMField(_("state"), max_length=16, choices=HandoverState.choices, default=HandoverState.WRITTEN,
                     protected=True)
    acknowledged_by = models.ForeignKey(settings.AUTH_USER_MODEL, verbose_name=_("acknowledged by"), null=True,
                                        blank=True, on_delete=models.PROTECT, related_name="+", editable=False)
    acknowledged_at = models.DateTimeField(_("acknowledged at"), null=True, blank=True, editable=False)

    class Meta:
        ordering = ["-written_at"]
        verbose_name = _("handover")
        verbose_name_plural = _("handovers")
        indexes = [models.Index(fields=["state", "written_at"], name="handover_waiting")]

    def __str__(self) -> str:
        return f"{self.shift}"

    @transition(field=state, source=HandoverState.WRITTEN, target=HandoverState.ACKNOWLEDGED,
                permission=may_acknowledge, custom={"label": _("Acknowledge the handover")})
    def acknowledge(self, *, by: Any = None) -> None:
        self.acknowledged_by, self.acknowledged_at = by, timezone.now()


class HandoverItem(models.Model):
    """A line carried over in a handover, copied when it is written (an open incident, a change in progress, an
    alert, an inspection finding), so that the handover reads as it was handed over."""

    handover = models.ForeignKey(Handover, verbose_name=_("handover"), on_delete=models.CASCADE,
                                 related_name="items")
    source = models.CharField(_("kind"), max_length=32)
    reference = models.CharField(_("reference"), max_length=40)
    title = models.CharField(_("title"), max_length=200)
    status = models.CharField(_("status"), max_length=80, blank=True)
    url = models.CharField(_("address"), max_length=200, blank=True)
    ordering = models.PositiveSmallIntegerField(default=0)

    class Meta:
        ordering = ["handover", "ordering", "pk"]
        verbose_name = _("handover item")
        verbose_name_plural = _("handover items")

    def __str__(self) -> str:
        return f"{self.reference} {self.title}"


# --- Reminders ------------------------------------------------------------------------------------------


class ShiftReminder(models.Model):
    """A reminder sent for a shift, once per lead time (the unique constraint makes a second sweep do nothing)."""

    shift = models.ForeignKey(Shift, verbose_name=_("shift"), on_delete=models.CASCADE, related_name="reminders")
    lead_minutes = models.PositiveIntegerField(_("minutes before"))
    sent_at = models.DateTimeField(_("sent at"), default=timezone.now)

    class Meta:
        verbose_name = _("shift reminder")
        verbose_name_plural = _("shift reminders")
        constraints = [models.UniqueConstraint(fields=["shift", "lead_minutes"], name="shift_reminder_once")]

    def __str__(self) -> str:
        return f"{self.shift} −{self.lead_minutes} min"
