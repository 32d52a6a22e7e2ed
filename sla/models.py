"""Service levels (DESIGN §4 "SLA", §5 "Time"): business calendars, agreements with departments and their
targets, operational targets per team, clocks on incidents with their timelines, thresholds swept from the
database, breaches and their explanations, outages and availability, monthly evaluations and their state
machine. The satisfaction models live in sla.surveys.models and are imported here, so that the app registers
them with the others."""

import zoneinfo
from datetime import date
from decimal import Decimal
from typing import Any

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import Exists, OuterRef, Q
from django.db.models.functions import TruncMonth
from django.utils import timezone
from django.utils.translation import gettext, gettext_noop
from django.utils.translation import gettext_lazy as _
from django_fsm import ConcurrentTransitionMixin, FSMField, transition

from incidents.choices import Priority
from opscenter.core.public_holidays import UNKNOWN_REGION, knows_region
from opscenter.core.workflow import condition, supervisors_only
from sla.choices import BreachKind, ClockEventKind, ClockKind, ClockState, EvaluationState, ExceptionKind, OutageKind
from sla.surveys.models import (  # noqa: F401  (the satisfaction models, registered with the sla app here)
    Campaign,
    CampaignAnswer,
    CampaignInvitation,
    CampaignQuestion,
    FollowUp,
    Survey,
    SurveyPolicy,
)

WEEKDAYS = [(0, _("Monday")), (1, _("Tuesday")), (2, _("Wednesday")), (3, _("Thursday")), (4, _("Friday")),
            (5, _("Saturday")), (6, _("Sunday"))]


def _positive(value: int | None, field: str) -> dict:
    return {field: _("Give a target greater than zero.")} if value is not None and value <= 0 else {}


# --- Business calendars --------------------------------------------------------------------------------

# The calendars the data migration ships: their names are shown in the reader's language (a calendar a
# supervisor names is shown as named).
SHIPPED_CALENDAR_NAMES = (gettext_noop("Office hours Mon–Fri 08:00–17:00"), gettext_noop("7×24"))


def calendar_label(name: str) -> str:
    """A calendar's name as the reader reads it: a shipped calendar's translated, any other as it was named."""
    return gettext(name) if name in SHIPPED_CALENDAR_NAMES else name


class BusinessCalendar(models.Model):
    """When the clock runs: working intervals per weekday in a time zone, public holidays of a country or
    region (the `holidays` package), make-up workdays (調休) and extra days off; or 7×24."""

    name = models.CharField(_("name"), max_length=120, unique=True)
    time_zone = models.CharField(_("time zone"), max_length=64, default="Asia/Shanghai")
    is_24x7 = models.BooleanField(_("7×24"), default=False, help_text=_("Every minute of every day counts."))
    holiday_country = models.CharField(_("public holidays of"), max_length=8, blank=True,
                                       help_text=_("A country code of the holidays package, e.g. CN, TW, HK."))
    holiday_subdivision = models.CharField(_("region"), max_length=16, blank=True)
    version = models.PositiveIntegerField(_("version"), default=1, editable=False,
                                          help_text=_("Raised on every edit; open clocks are recomputed."))

    class Meta:
        ordering = ["name"]
        verbose_name = _("business calendar")
        verbose_name_plural = _("business calendars")

    def __str__(self) -> str:
        return calendar_label(self.name)

    def clean(self) -> None:
        try:
            zoneinfo.ZoneInfo(self.time_zone)
        except (zoneinfo.ZoneInfoNotFoundError, ValueError):
            raise ValidationError({"time_zone": _("Unknown time zone.")}) from None
        if self.holiday_country and not knows_region(self.holiday_country, self.holiday_subdivision):
            raise ValidationError({"holiday_country": UNKNOWN_REGION})

    @property
    def zone(self) -> zoneinfo.ZoneInfo:
        return zoneinfo.ZoneInfo(self.time_zone)


class WorkingInterval(models.Model):
    """One working period of a weekday (a day may have several, e.g. 08:00–12:00 and 13:00–17:00)."""

    calendar = models.ForeignKey(BusinessCalendar, verbose_name=_("calendar"), on_delete=models.CASCADE,
                                 related_name="intervals")
    weekday = models.PositiveSmallIntegerField(_("weekday"), choices=WEEKDAYS)
    start = models.TimeField(_("from"))
    end = models.TimeField(_("until"))

    class Meta:
        ordering = ["calendar", "weekday", "start"]
        verbose_name = _("working interval")
        verbose_name_plural = _("working intervals")

    def __str__(self) -> str:
        return f"{self.get_weekday_display()} {self.start:%H:%M}–{self.end:%H:%M}"

    def clean(self) -> None:
        if self.start is not None and self.end is not None and self.end <= self.start:
            raise ValidationError({"end": _("An interval must end after it starts.")})
        if self.calendar_id and self.start is not None and self.end is not None:
            overlapping = WorkingInterval.objects.filter(
                calendar_id=self.calendar_id, weekday=self.weekday, start__lt=self.end, end__gt=self.start
            ).exclude(pk=self.pk)
            if overlapping.exists():
                raise ValidationError({"start": _("This interval overlaps another one of the same day.")})


class CalendarException(models.Model):
    """A date that differs from the weekly pattern: an extra day off, or a make-up workday (調休) with its hours."""

    calendar = models.ForeignKey(BusinessCalendar, verbose_name=_("calendar"), on_delete=models.CASCADE,
                                 related_name="exceptions")
    date = models.DateField(_("date"))
    kind = models.CharField(_("kind"), max_length=8, choices=ExceptionKind.choices)
    start = models.TimeField(_("from"), null=True, blank=True,
                             help_text=_("Make-up workday: its hours (the Monday pattern when left empty)."))
    end = models.TimeField(_("until"), null=True, blank=True)
    note = models.CharField(_("note"), max_length=200, blank=True)

    class Meta:
        ordering = ["calendar", "date"]
        verbose_name = _("calendar exception")
        verbose_name_plural = _("calendar exceptions")
        constraints = [models.UniqueConstraint(fields=["calendar", "date"], name="calendar_exception_once")]

    def __str__(self) -> str:
        return f"{self.date} {self.get_kind_display()}"

    def clean(self) -> None:
        if (self.start is None) != (self.end is None):
            raise ValidationError({"end": _("Give both the start and the end, or neither.")})
        if self.start is not None and self.end is not None and self.end <= self.start:
            raise ValidationError({"end": _("An interval must end after it starts.")})
        if self.kind == ExceptionKind.DAY_OFF and self.start is not None:
            raise ValidationError({"start": _("A day off has no hours.")})


# --- Agreements and targets ----------------------------------------------------------------------------


class Agreement(models.Model):
    """A service level agreement between the IT center and a business department, for a validity period."""

    department = models.ForeignKey("core.Department", verbose_name=_("department"), on_delete=models.PROTECT,
                                   related_name="agreements")
    name = models.CharField(_("name"), max_length=160)
    valid_from = models.DateField(_("valid from"))
    valid_until = models.DateField(_("valid until"), null=True, blank=True)
    calendar = models.ForeignKey(BusinessCalendar, verbose_name=_("business calendar"), on_delete=models.PROTECT,
                                 related_name="agreements")
    is_active = models.BooleanField(_("active"), default=True)
    is_default = models.BooleanField(
        _("default agreement"), default=False,
        help_text=_("Applies to incidents for which neither their department nor the owner department of their "
                    "service has an agreement. At most one agreement is the default."))
    created_at = models.DateTimeField(_("created at"), default=timezone.now, editable=False)

    class Meta:
        ordering = ["department", "-valid_from"]
        verbose_name = _("service level agreement")
        verbose_name_plural = _("service level agreements")
        indexes = [models.Index(fields=["department", "valid_from"], name="agreement_department")]
        constraints = [models.UniqueConstraint(fields=["is_default"], condition=Q(is_default=True),
                                               name="agreement_one_default")]

    def __str__(self) -> str:
        return f"{self.department} · {self.name}"

    def clean(self) -> None:
        if self.valid_from and self.valid_until and self.valid_until < self.valid_from:
            raise ValidationError({"valid_until": _("The agreement must end after it starts.")})
        other = other_default_agreement(self) if self.is_default else None
        if other is not None:
            raise ValidationError({"is_default": default_taken_message(other)})


def other_default_agreement(agreement: Agreement) -> Agreement | None:
    """The agreement other than this one that is the default, if any (at most one is)."""
    return Agreement.objects.filter(is_default=True).exclude(pk=agreement.pk).select_related("department").first()


def default_taken_message(other: Agreement) -> str:
    return _("“%(agreement)s” is the default agreement: clear its flag first.") % {"agreement": other}


class ServiceTarget(models.Model):
    """Availability promised for a service within its service hours (e.g. 99.9%)."""

    agreement = models.ForeignKey(Agreement, verbose_name=_("agreement"), on_delete=models.CASCADE,
                                  related_name="service_targets")
    service = models.ForeignKey("core.Service", verbose_name=_("service"), on_delete=models.PROTECT,
                                related_name="sla_targets")
    availability = models.DecimalField(
        _("availability target (%)"), max_digits=6, decimal_places=3,
        validators=[MinValueValidator(Decimal("0.001")), MaxValueValidator(Decimal("100"))])
    calendar = models.ForeignKey(BusinessCalendar, verbose_name=_("service hours"), null=True, blank=True,
                                 on_delete=models.PROTECT, related_name="+",
                                 help_text=_("When the service must be available (the agreement's calendar if empty)."))

    class Meta:
        ordering = ["agreement", "service"]
        verbose_name = _("availability target")
        verbose_name_plural = _("availability targets")
        constraints = [models.UniqueConstraint(fields=["agreement", "service"], name="service_target_once")]

    def __str__(self) -> str:
        return f"{self.service}: {self.availability}%"

    def clean(self) -> None:
        if self.availability is not None and not Decimal("0") < self.availability <= Decimal("100"):
            raise ValidationError({"availability": _("Give a target above 0% and at most 100%.")})


class PriorityTarget(models.Model):
    """Response and resolution targets of a priority, in business minutes."""

    agreement = models.ForeignKey(Agreement, verbose_name=_("agreement"), on_delete=models.CASCADE,
                                  related_name="priority_targets")
    priority = models.CharField(_("priority"), max_length=2, choices=Priority.choices)
    response_minutes = models.PositiveIntegerField(_("respond within (business minutes)"))
    resolution_minutes = models.PositiveIntegerField(_("resolve within (business minutes)"))
    calendar = models.ForeignKey(BusinessCalendar, verbose_name=_("business calendar"), null=True, blank=True,
                                 on_delete=models.PROTECT, related_name="+",
                                 help_text=_("The agreement's calendar if empty (e.g. 7×24 for P1)."))

    class Meta:
        ordering = ["agreement", "priority"]
        verbose_name = _("priority target")
        verbose_name_plural = _("priority targets")
        constraints = [models.UniqueConstraint(fields=["agreement", "priority"], name="priority_target_once")]

    def __str__(self) -> str:
        return f"{self.priority}: {self.response_minutes} / {self.resolution_minutes} min"

    def clean(self) -> None:
        errors = {**_positive(self.response_minutes, "response_minutes"),
                  **_positive(self.resolution_minutes, "resolution_minutes")}
        if errors:
            raise ValidationError(errors)


class Threshold(models.Model):
    """A warning at a share of the target (e.g. 50%, 75%, 90%), or the breach at 100%, and who hears of it."""

    agreement = models.ForeignKey(Agreement, verbose_name=_("agreement"), on_delete=models.CASCADE,
                                  related_name="thresholds")
    percent = models.PositiveSmallIntegerField(
        _("percent of the target"), validators=[MinValueValidator(1), MaxValueValidator(100)],
        help_text=_("100 is the breach."))
    notify_assignee = models.BooleanField(_("the assignee"), default=True)
    notify_team = models.BooleanField(_("the assigned team"), default=False)
    notify_supervisors = models.BooleanField(_("supervisors"), default=False)
    notify_department = models.BooleanField(_("the department's contact"), default=False)
    users = models.ManyToManyField(settings.AUTH_USER_MODEL, verbose_name=_("also notify"), blank=True,
                                   related_name="+")

    class Meta:
        ordering = ["agreement", "percent"]
        verbose_name = _("warning threshold")
        verbose_name_plural = _("warning thresholds")
        constraints = [models.UniqueConstraint(fields=["agreement", "percent"], name="threshold_once")]

    def __str__(self) -> str:
        return f"{self.percent}%"

    def clean(self) -> None:
        if self.percent is not None and not 0 < self.percent <= 100:
            raise ValidationError({"percent": _("A threshold lies above 0% and at most at 100% of the target.")})


class TeamTarget(models.Model):
    """Operational level target (OLA): the time a ticket may spend with one assigned team."""

    team = models.ForeignKey("core.Team", verbose_name=_("team"), on_delete=models.CASCADE,
                             related_name="ola_targets")
    priority = models.CharField(_("priority"), max_length=2, choices=Priority.choices)
    resolution_minutes = models.PositiveIntegerField(_("within (business minutes)"))
    calendar = models.ForeignKey(BusinessCalendar, verbose_name=_("business calendar"), on_delete=models.PROTECT,
                                 related_name="+")

    class Meta:
        ordering = ["team", "priority"]
        verbose_name = _("operational level target")
        verbose_name_plural = _("operational level targets")
        constraints = [models.UniqueConstraint(fields=["team", "priority"], name="team_target_once")]

    def __str__(self) -> str:
        return f"{self.team} {self.priority}: {self.resolution_minutes} min"

    def clean(self) -> None:
        errors = _positive(self.resolution_minutes, "resolution_minutes")
        if errors:
            raise ValidationError(errors)


# --- Clocks --------------------------------------------------------------------------------------------


class Clock(models.Model):
    """A response, resolution or team (OLA) clock on an incident, counting business time.

    `elapsed_seconds` holds the business seconds of the segments already closed; while running, the open
    segment started at `segment_started_at`. `due_at` is when the target is reached if nothing pauses it.
    The events of its timeline add up to its elapsed time."""

    incident = models.ForeignKey("incidents.Incident", verbose_name=_("incident"), on_delete=models.CASCADE,
                                 related_name="sla_clocks")
    kind = models.CharField(_("kind"), max_length=12, choices=ClockKind.choices)
    team = models.ForeignKey("core.Team", verbose_name=_("team"), null=True, blank=True, on_delete=models.PROTECT,
                             related_name="+")
    agreement = models.ForeignKey(Agreement, verbose_name=_("agreement"), null=True, blank=True,
                                  on_delete=models.PROTECT, related_name="clocks")
    # No index of its own: clock_department_month (department, started_at) leads with it.
    department = models.ForeignKey("core.Department", verbose_name=_("department"), null=True, blank=True,
                                   on_delete=models.PROTECT, related_name="+", db_index=False)
    calendar = models.ForeignKey(BusinessCalendar, verbose_name=_("business calendar"), null=True, blank=True,
                                 on_delete=models.PROTECT, related_name="clocks")
    priority = models.CharField(_("priority"), max_length=2, blank=True)
    target_seconds = models.PositiveIntegerField(_("target (business seconds)"), null=True, blank=True)
    state = models.CharField(_("state"), max_length=8, choices=ClockState.choices, default=ClockState.RUNNING)
    started_at = models.DateTimeField(_("started at"))
    segment_started_at = models.DateTimeField(_("running since"), null=True, blank=True)
    elapsed_seconds = models.PositiveIntegerField(_("business seconds elapsed"), default=0)
    due_at = models.DateTimeField(_("due at"), null=True, blank=True)
    stopped_at = models.DateTimeField(_("stopped at"), null=True, blank=True)
    breached = models.BooleanField(_("breached"), default=False)
    calendar_version = models.PositiveIntegerField(default=0, editable=False)

    class Meta:
        ordering = ["incident", "kind", "pk"]
        verbose_name = _("SLA clock")
        verbose_name_plural = _("SLA clocks")
        constraints = [
            models.UniqueConstraint(fields=["incident", "kind"], condition=~Q(kind=ClockKind.OLA),
                                    name="clock_once_per_kind"),
            models.UniqueConstraint(fields=["incident", "team"], condition=Q(kind=ClockKind.OLA),
                                    name="ola_clock_once_per_team"),
        ]
        indexes = [
            models.Index(fields=["state", "due_at"], name="clock_running_due"),
            models.Index(fields=["department", "started_at"], name="clock_department_month"),
            # Monthly compliance reads the clocks a department stopped in a month.
            models.Index(fields=["department", "stopped_at"], condition=Q(state="stopped"),
                         name="clock_department_stopped"),
        ]

    def __str__(self) -> str:
        return f"{self.incident_id} {self.get_kind_display()}"


class ClockEvent(models.Model):
    """One entry of a clock's timeline: start, pause, resume, stop or re-target, with who, why, and the
    business seconds of the segment it closes."""

    clock = models.ForeignKey(Clock, verbose_name=_("clock"), on_delete=models.CASCADE, related_name="events")
    kind = models.CharField(_("event"), max_length=8, choices=ClockEventKind.choices)
    at = models.DateTimeField(_("time"))
    actor = models.ForeignKey(settings.AUTH_USER_MODEL, verbose_name=_("by"), null=True, blank=True,
                              on_delete=models.PROTECT, related_name="+")
    reason = models.CharField(_("reason"), max_length=255, blank=True)
    segment_seconds = models.PositiveIntegerField(_("business seconds counted"), default=0)
    target_seconds = models.PositiveIntegerField(_("target after the event"), null=True, blank=True)

    class Meta:
        ordering = ["clock", "at", "pk"]
        verbose_name = _("clock event")
        verbose_name_plural = _("clock events")

    def __str__(self) -> str:
        return f"{self.get_kind_display()} {self.at:%Y-%m-%d %H:%M}"


class ClockThreshold(models.Model):
    """When a running clock reaches a share of its target. The sweep claims due rows once (`fired_at`)."""

    clock = models.ForeignKey(Clock, verbose_name=_("clock"), on_delete=models.CASCADE, related_name="thresholds")
    percent = models.PositiveSmallIntegerField(_("percent of the target"))
    due_at = models.DateTimeField(_("due at"), null=True, blank=True)
    fired_at = models.DateTimeField(_("announced at"), null=True, blank=True)

    class Meta:
        ordering = ["clock", "percent"]
        verbose_name = _("clock threshold")
        verbose_name_plural = _("clock thresholds")
        constraints = [models.UniqueConstraint(fields=["clock", "percent"], name="clock_threshold_once")]
        indexes = [models.Index(fields=["due_at"], condition=Q(fired_at__isnull=True), name="threshold_due")]

    def __str__(self) -> str:
        return f"{self.clock} {self.percent}%"


class Breach(models.Model):
    """A target missed and what the IT center says about it (未達到SLA要求…說明原因): a clock's time target,
    recorded once per clock, or a service's availability target, recorded once per service and month."""

    clock = models.OneToOneField(Clock, verbose_name=_("clock"), null=True, blank=True, on_delete=models.CASCADE,
                                 related_name="breach")
    incident = models.ForeignKey("incidents.Incident", verbose_name=_("incident"), null=True, blank=True,
                                 on_delete=models.CASCADE, related_name="sla_breaches")
    service = models.ForeignKey("core.Service", verbose_name=_("service"), null=True, blank=True,
                                on_delete=models.PROTECT, related_name="+")
    month = models.DateField(_("month"), null=True, blank=True,
                             help_text=_("Availability: the first day of the month that came in below target."))
    department = models.ForeignKey("core.Department", verbose_name=_("department"), null=True, blank=True,
                                   on_delete=models.PROTECT, related_name="+")
    kind = models.CharField(_("kind"), max_length=12, choices=BreachKind.choices)
    breached_at = models.DateTimeField(_("breached at"), db_index=True)
    explanation = models.TextField(_("explanation"), blank=True)
    corrective_action = models.TextField(_("corrective action"), blank=True)
    action_owner = models.ForeignKey(settings.AUTH_USER_MODEL, verbose_name=_("action owner"), null=True,
                                     blank=True, on_delete=models.PROTECT, related_name="+")
    action_due = models.DateField(_("action due"), null=True, blank=True)
    explained_by = models.ForeignKey(settings.AUTH_USER_MODEL, verbose_name=_("explained by"), null=True,
                                     blank=True, on_delete=models.PROTECT, related_name="+")
    explained_at = models.DateTimeField(_("explained at"), null=True, blank=True)

    class Meta:
        ordering = ["-breached_at"]
        verbose_name = _("SLA breach")
        verbose_name_plural = _("SLA breaches")
        indexes = [models.Index(fields=["department", "breached_at"], name="breach_department_month")]
        constraints = [
            models.UniqueConstraint(fields=["department", "service", "month"],
                                    condition=Q(kind=BreachKind.AVAILABILITY), name="availability_breach_once"),
            models.CheckConstraint(
                condition=(~Q(kind=BreachKind.AVAILABILITY) & Q(clock__isnull=False, incident__isnull=False))
                | Q(kind=BreachKind.AVAILABILITY, service__isnull=False, month__isnull=False),
                name="breach_of_a_clock_or_a_service_month"),
        ]

    def __str__(self) -> str:
        return f"{self.incident_id or self.service_id} {self.get_kind_display()} {self.breached_at:%Y-%m-%d}"

    @property
    def is_explained(self) -> bool:
        return bool(self.explanation and self.corrective_action and self.action_owner_id and self.action_due)


# --- Availability --------------------------------------------------------------------------------------


class Outage(models.Model):
    """A period a service was down (or degraded), recorded on the incident that caused it."""

    incident = models.ForeignKey("incidents.Incident", verbose_name=_("incident"), on_delete=models.CASCADE,
                                 related_name="outages")
    service = models.ForeignKey("core.Service", verbose_name=_("service"), on_delete=models.PROTECT,
                                related_name="outages")
    started_at = models.DateTimeField(_("from"))
    ended_at = models.DateTimeField(_("until"), null=True, blank=True, help_text=_("Empty while it lasts."))
    kind = models.CharField(_("kind"), max_length=8, choices=OutageKind.choices, default=OutageKind.FULL)
    recorded_by = models.ForeignKey(settings.AUTH_USER_MODEL, verbose_name=_("recorded by"),
                                    on_delete=models.PROTECT, related_name="+")
    recorded_at = models.DateTimeField(_("recorded at"), default=timezone.now)

    class Meta:
        ordering = ["-started_at"]
        verbose_name = _("outage")
        verbose_name_plural = _("outages")
        indexes = [models.Index(fields=["service", "started_at"], name="outage_service_period")]

    def __str__(self) -> str:
        return f"{self.service} {self.started_at:%Y-%m-%d %H:%M}"

    def clean(self) -> None:
        if self.started_at and self.ended_at and self.ended_at <= self.started_at:
            raise ValidationError({"ended_at": _("An outage must end after it starts.")})


# --- Monthly evaluation --------------------------------------------------------------------------------


UNEXPLAINED = Q(explanation="") | Q(corrective_action="") | Q(action_owner__isnull=True) | Q(action_due__isnull=True)


def unexplained_breaches(department_id: int, month: date) -> models.QuerySet:
    """Breaches of a department recorded in a month that still lack their explanation, corrective action,
    owner or due date."""
    from sla import metrics

    start, end = metrics.month_bounds(month)
    return Breach.objects.filter(department_id=department_id, breached_at__gte=start, breached_at__lt=end).filter(
        UNEXPLAINED)


def has_unexplained_breaches() -> Exists:
    """For a list of evaluations: whether each one's month still has an unexplained breach, as a column (read
    by `breaches_explained` instead of one query per row)."""
    breach_month = TruncMonth("breached_at", output_field=models.DateField(),
                              tzinfo=timezone.get_default_timezone())
    return Exists(Breach.objects.filter(department_id=OuterRef("department_id")).annotate(
        breach_month=breach_month).filter(UNEXPLAINED, breach_month=OuterRef("month")))


@condition(_("A month is published once it is over."))
def month_is_over(evaluation: "Evaluation") -> bool:
    """Only a finished month is evaluated for good (定期評估)."""
    return evaluation.month < timezone.localdate().replace(day=1)


@condition(_("Every breach needs an explanation and a corrective action with owner and due date before the "
             "evaluation is published."))
def breaches_explained(evaluation: "Evaluation") -> bool:
    """未達到SLA要求…說明原因: every breach of the month is explained, with its corrective action, first."""
    listed = getattr(evaluation, "has_unexplained_breaches", None)
    if listed is not None:
        return not listed
    return not unexplained_breaches(evaluation.department_id, evaluation.month).exists()


class Evaluation(ConcurrentTransitionMixin, models.Model):
    """The monthly evaluation of a department's agreement (定期評估). Published figures never change."""

    STATE_FIELD = "state"

    department = models.ForeignKey("core.Department", verbose_name=_("department"), on_delete=models.PROTECT,
                                   related_name="sla_evaluations")
    month = models.DateField(_("month"), help_text=_("The first day of the month."))
    state = FSMField(_("state"), max_length=10, choices=EvaluationState.choices, default=EvaluationState.DRAFT,
                     protected=True)
    summary = models.TextField(_("summary"), blank=True)
    figures = models.JSONField(_("figures"), default=dict, blank=True, editable=False)
    published_at = models.DateTimeField(_("published at"), null=True, blank=True)
    published_by = models.ForeignKey(settings.AUTH_USER_MODEL, verbose_name=_("published by"), null=True,
                                     blank=True, on_delete=models.PROTECT, related_name="+")

    class Meta:
        ordering = ["-month", "department"]
        verbose_name = _("monthly evaluation")
        verbose_name_plural = _("monthly evaluations")
        constraints = [models.UniqueConstraint(fields=["department", "month"], name="evaluation_once")]

    def __str__(self) -> str:
        return f"{self.department} {self.month:%Y-%m}"

    def clean(self) -> None:
        if self.month and self.month.day != 1:
            raise ValidationError({"month": _("Give the first day of the month.")})

    @transition(field=state, source=EvaluationState.DRAFT, target=EvaluationState.PUBLISHED,
                conditions=[month_is_over, breaches_explained],
                permission=supervisors_only(_("Only a supervisor publishes monthly evaluations.")),
                custom={"label": _("Publish to the department")})
    def publish(self, *, by: Any, summary: str | None = None) -> None:
        """A supervisor freezes the month's figures and breach explanations and publishes them to the
        department."""
        from sla.evaluations import frozen_figures

        self.figures = frozen_figures(self.department_id, self.month)
        if summary is not None:
            self.summary = summary.strip()
        self.published_at, self.published_by = timezone.now(), by
