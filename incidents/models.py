"""Incidents and their state machine (DESIGN §4 "Incident"), categories, the priority matrix,
related incidents and major-incident review meetings."""

from datetime import datetime, timedelta

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models
from django.db.models import Q, QuerySet
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django_fsm import RETURN_VALUE, FSMField, transition

from incidents.choices import (
    ASSIGN_STATES,
    BEFORE_HANDLING,
    FINISHED_STATES,
    OPEN_STATES,
    RECLASSIFIABLE,
    WORKING_STATES,
    CancelReason,
    Channel,
    HoldReason,
    Level,
    Priority,
    SlaTarget,
    State,
)
from opscenter.core import roles
from opscenter.core.choices import TeamKind
from opscenter.core.models import Ticket, TicketQuerySet, User
from opscenter.core.roles import has_role, user_team_ids, user_team_kinds
from opscenter.core.workflow import condition, roles_allowed


class Category(models.Model):
    """Incident category (hardware, software, network, desktop, security, other)."""

    code = models.SlugField(_("code"), max_length=32, unique=True)
    name = models.CharField(_("name"), max_length=80)
    name_zh_hant = models.CharField(_("name (Traditional Chinese)"), max_length=80, blank=True)
    is_security = models.BooleanField(
        _("security incident"), default=False,
        help_text=_("Visible only to the security team, supervisors and the reporter."))
    default_team = models.ForeignKey("core.Team", verbose_name=_("default team"), null=True, blank=True,
                                     on_delete=models.SET_NULL, related_name="+")
    ordering = models.PositiveSmallIntegerField(_("order"), default=0)

    class Meta:
        ordering = ["ordering", "code"]
        verbose_name = _("incident category")
        verbose_name_plural = _("incident categories")

    def __str__(self) -> str:
        from django.utils.translation import get_language

        if (get_language() or "").startswith("zh") and self.name_zh_hant:
            return self.name_zh_hant
        return self.name


class PriorityRule(models.Model):
    """One cell of the impact × urgency matrix; edits apply to classifications made afterwards."""

    impact = models.PositiveSmallIntegerField(_("impact"), choices=Level.choices)
    urgency = models.PositiveSmallIntegerField(_("urgency"), choices=Level.choices)
    priority = models.CharField(_("priority"), max_length=2, choices=Priority.choices)

    class Meta:
        ordering = ["impact", "urgency"]
        verbose_name = _("priority matrix cell")
        verbose_name_plural = _("priority matrix")
        constraints = [models.UniqueConstraint(fields=["impact", "urgency"], name="priority_rule_unique")]

    def __str__(self) -> str:
        return f"{self.get_impact_display()} × {self.get_urgency_display()} → {self.priority}"

    @classmethod
    def priority_for(cls, impact: int, urgency: int) -> str:
        rule = cls.objects.filter(impact=impact, urgency=urgency).first()
        if rule is None:
            raise ValidationError({"impact": _("The priority matrix has no cell for this impact and urgency.")})
        return rule.priority


def assign_due_after(priority: str, at: datetime) -> datetime | None:
    """When an incident of `priority` must be assigned, counted from `at` (INCIDENT_ASSIGN_WITHIN_MINUTES: a P1
    within five minutes); None for a priority without that rule."""
    minutes = settings.INCIDENT_ASSIGN_WITHIN_MINUTES.get(priority)
    return at + timedelta(minutes=minutes) if minutes else None


class IncidentQuerySet(TicketQuerySet):
    def visible_to(self, user) -> "IncidentQuerySet":  # noqa: ANN001
        """Department users see their department's incidents; security incidents are seen only by
        the security team, supervisors and the reporter."""
        qs = super().visible_to(user)
        if not getattr(user, "is_authenticated", False):
            return qs
        if user.is_superuser or has_role(user, roles.SUPERVISOR):
            return qs
        own = Q(created_by=user) | Q(caller=user)
        if not has_role(user, *roles.IT_STAFF, roles.AUDITOR):
            department = Q(department_id=user.department_id) if user.department_id else Q(pk__in=[])
            qs = qs.filter(own | department)
        if TeamKind.SECURITY not in user_team_kinds(user):
            qs = qs.filter(own | Q(category__is_security=False) | Q(category__isnull=True))
        return qs


def readers(incident: "Incident", users: QuerySet[User]) -> QuerySet[User]:
    """Those of `users` who may see the incident: the rule of IncidentQuerySet.visible_to read from the other
    side (supervisors and superusers see all; the reporter and the caller their own; IT staff and auditors every
    department's, a department user their own department's; a security incident only the security team besides),
    in one query whatever the users. A test holds the two sides to each other."""
    everything = Q(is_superuser=True) | Q(groups__name=roles.SUPERVISOR)
    own = Q(pk__in=[pk for pk in (incident.created_by_id, incident.caller_id) if pk])
    seen = Q(groups__name__in=[*roles.IT_STAFF, roles.AUDITOR])
    if incident.department_id:
        seen |= Q(department_id=incident.department_id)
    if incident.category_id and incident.category.is_security:
        seen &= Q(teams__kind=TeamKind.SECURITY)
    allowed = User.objects.filter(everything | own | seen, is_active=True).values("pk")
    return users.filter(pk__in=allowed)


def may_see(incident: "Incident", user) -> bool:  # noqa: ANN001
    """Whether this user may see the incident (IncidentQuerySet.visible_to, for one incident and one user)."""
    return Incident.objects.visible_to(user).filter(pk=incident.pk).exists()


def is_assignee(incident: "Incident", user) -> bool:  # noqa: ANN001
    """The assigned engineer, or a member of the assigned team while no engineer is named."""
    if not user or not user.is_authenticated:
        return False
    if incident.assignee_id:
        return incident.assignee_id == user.pk
    return bool(incident.team_id) and incident.team_id in user_team_ids(user)


def assignee_or_supervisor(incident: "Incident", user) -> bool:  # noqa: ANN001
    return is_assignee(incident, user) or has_role(user, roles.SUPERVISOR)


def may_reopen(incident: "Incident", user) -> bool:  # noqa: ANN001
    """The supervisor, the assignee, the duty officer, or whoever reported it."""
    return (assignee_or_supervisor(incident, user) or has_role(user, roles.DUTY_OFFICER)
            or user.pk in (incident.created_by_id, incident.caller_id))


def may_edit(incident: "Incident", user) -> bool:  # noqa: ANN001
    """IT staff edit incidents; a caller or reporter edits their own report. Auditors only read."""
    if not user or not user.is_authenticated or not user.is_active:
        return False
    return has_role(user, *roles.IT_STAFF) or user.pk in (incident.created_by_id, incident.caller_id)


# Who classifies an incident, and reclassifies it later (故障處理：值班人員初步分類).
may_classify = roles_allowed(roles.DUTY_OFFICER, *roles.ENGINEERS, roles.SUPERVISOR)


def may_hold(incident: "Incident", user) -> bool:  # noqa: ANN001
    return assignee_or_supervisor(incident, user) or has_role(user, roles.DUTY_OFFICER)


@condition(_("A major incident cannot be closed without its review meeting record (重大故障須召開分析會議)."))
def has_review_if_major(incident: "Incident") -> bool:
    """A major incident needs its review-meeting record before the report is approved (read with the row by
    the API's queries, as `has_review`)."""
    if not incident.is_major:
        return True
    known = incident.__dict__.get("has_review")
    return known if known is not None else incident.reviews.exists()


@condition(_("The incident is already a major incident."))
def is_not_major(incident: "Incident") -> bool:
    """Declaring a major incident twice is refused."""
    return not incident.is_major


class Incident(Ticket):
    """A fault or event reported to the IT center and worked until the supervisor signs it off."""

    NUMBER_PREFIX = "INC"

    # The ticket's column without its own index: incident_newest (created_at, id) leads with it.
    created_at = models.DateTimeField(_("created at"), default=timezone.now, editable=False)

    # Columns that lead one of the composite indexes below (state, department, team, assignee, created_at) have
    # no index of their own: the composite serves their lookups, and every index is written on each insert and on
    # each update that changes its column (a state change touches them all).
    state = FSMField(_("state"), default=State.REPORTED, choices=State.choices, protected=True)

    # reporting
    description = models.TextField(_("phenomenon"))
    occurred_at = models.DateTimeField(_("occurred at"))
    impact_scope = models.TextField(_("impact scope"))
    channel = models.CharField(_("channel"), max_length=16, choices=Channel.choices)
    caller = models.ForeignKey(settings.AUTH_USER_MODEL, verbose_name=_("caller"), null=True, blank=True,
                               on_delete=models.PROTECT, related_name="incidents_called")
    caller_name = models.CharField(_("caller name"), max_length=120, blank=True)
    caller_contact = models.CharField(_("caller contact"), max_length=120, blank=True)
    department = models.ForeignKey("core.Department", verbose_name=_("department"), null=True, blank=True,
                                   on_delete=models.PROTECT, related_name="incidents", db_index=False)
    service = models.ForeignKey("core.Service", verbose_name=_("service"), null=True, blank=True,
                                on_delete=models.PROTECT, related_name="incidents")
    configuration_item = models.ForeignKey("core.ConfigurationItem", verbose_name=_("configuration item"),
                                           null=True, blank=True, on_delete=models.PROTECT, related_name="incidents")

    # classification
    category = models.ForeignKey(Category, verbose_name=_("category"), null=True, blank=True,
                                 on_delete=models.PROTECT, related_name="incidents")
    impact = models.PositiveSmallIntegerField(_("impact"), choices=Level.choices, null=True, blank=True)
    urgency = models.PositiveSmallIntegerField(_("urgency"), choices=Level.choices, null=True, blank=True)
    priority = models.CharField(_("priority"), max_length=2, choices=Priority.choices, blank=True)
    classified_at = models.DateTimeField(_("classified at"), null=True, blank=True)
    assign_due_at = models.DateTimeField(_("assign by"), null=True, blank=True)
    assign_overdue_notified_at = models.DateTimeField(null=True, blank=True, editable=False)

    # assignment and work
    team = models.ForeignKey("core.Team", verbose_name=_("team"), null=True, blank=True,
                             on_delete=models.PROTECT, related_name="incidents", db_index=False)
    assignee = models.ForeignKey(settings.AUTH_USER_MODEL, verbose_name=_("assignee"), null=True, blank=True,
                                 on_delete=models.PROTECT, related_name="incidents_assigned", db_index=False)
    assigned_at = models.DateTimeField(_("assigned at"), null=True, blank=True)
    first_response_at = models.DateTimeField(_("first response at"), null=True, blank=True)
    diagnosis_cause = models.TextField(_("cause"), blank=True)
    diagnosis_scope = models.TextField(_("scope"), blank=True)
    measures = models.TextField(_("measures taken"), blank=True)
    test_function_note = models.TextField(_("function test"), blank=True)
    test_performance_note = models.TextField(_("performance test"), blank=True)
    test_data_note = models.TextField(_("data integrity test"), blank=True)
    resolution = models.TextField(_("resolution"), blank=True)
    resolved_at = models.DateTimeField(_("resolved at"), null=True, blank=True, db_index=True)
    resolved_by = models.ForeignKey(settings.AUTH_USER_MODEL, verbose_name=_("resolved by"), null=True,
                                    blank=True, on_delete=models.PROTECT, related_name="+")

    # hold, cancel
    held_from = models.CharField(_("held from"), max_length=16, blank=True)
    hold_reason = models.CharField(_("hold reason"), max_length=16, choices=HoldReason.choices, blank=True)
    cancel_reason = models.CharField(_("cancel reason"), max_length=16, choices=CancelReason.choices, blank=True)

    # report
    report_cause = models.TextField(_("report: cause"), blank=True)
    report_process = models.TextField(_("report: process"), blank=True)
    report_measures = models.TextField(_("report: measures"), blank=True)
    report_result = models.TextField(_("report: result"), blank=True)
    report_submitted_at = models.DateTimeField(_("report submitted at"), null=True, blank=True)
    closed_at = models.DateTimeField(_("closed at"), null=True, blank=True)

    # What is due next, kept on the row so that the queues sort by it through an index and show it without reading
    # the clocks. The SLA clocks (sla.clocks) write the nearest target of their running response and resolution
    # clocks as they start, pause, resume, re-target and stop (NULL while none runs: paused, stopped, no target).
    sla_due_at = models.DateTimeField(_("next SLA target"), null=True, blank=True, editable=False)
    sla_due_kind = models.CharField(_("next SLA target kind"), max_length=16, choices=SlaTarget.choices, blank=True,
                                    editable=False)
    # Worked out by the database from the columns above on every write, so never out of step with them; read them
    # from a query (a saved instance keeps the values it was loaded with). `next_due_at`: the nearest of the time to
    # assign it (while it waits for a team) and the next SLA target; `finished`: resolved, under review, closed or
    # cancelled (the queues list open incidents first).
    next_due_at = models.GeneratedField(
        expression=models.Case(
            models.When(Q(state__in=ASSIGN_STATES, assign_due_at__isnull=False)
                        & (Q(sla_due_at__isnull=True) | Q(assign_due_at__lt=models.F("sla_due_at"))),
                        then=models.F("assign_due_at")),
            default=models.F("sla_due_at")),
        output_field=models.DateTimeField(), db_persist=True, verbose_name=_("next due"))
    finished = models.GeneratedField(expression=Q(state__in=FINISHED_STATES), output_field=models.BooleanField(),
                                     db_persist=True, verbose_name=_("finished"))

    # major incident, relations
    is_major = models.BooleanField(_("major incident"), default=False, db_index=True)
    major_declared_at = models.DateTimeField(_("declared major at"), null=True, blank=True)
    parent = models.ForeignKey("self", verbose_name=_("parent incident"), null=True, blank=True,
                               on_delete=models.SET_NULL, related_name="children")
    duplicate_of = models.ForeignKey("self", verbose_name=_("duplicate of"), null=True, blank=True,
                                     on_delete=models.SET_NULL, related_name="duplicates")

    objects = IncidentQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at", "-pk"]
        verbose_name = _("incident")
        verbose_name_plural = _("incidents")
        indexes = [
            models.Index(fields=["state", "priority", "created_at"], name="incident_queue"),
            # The lists' default order (newest first, the id breaking ties), whole and within one state: read
            # backwards in index order, without sorting the rows that match.
            models.Index(fields=["created_at", "id"], name="incident_newest"),
            models.Index(fields=["state", "created_at", "id"], name="incident_state_newest"),
            models.Index(fields=["department", "created_at"], name="incident_department"),
            # Monthly MTTA and MTTR per department (service level figures).
            models.Index(fields=["department", "first_response_at"], name="incident_department_response"),
            models.Index(fields=["department", "resolved_at"], name="incident_department_resolved"),
            models.Index(fields=["team", "state"], name="incident_team"),
            models.Index(fields=["assignee", "state"], name="incident_assignee"),
            # Most urgent first, the queues' and the API's default order (incidents.selectors.URGENT_FIRST): open
            # before finished, by priority, the nearest deadline first (none last, as PostgreSQL's ascending index
            # holds NULLs), then the longest waiting. A page of it is read in index order, without sorting.
            models.Index(fields=["finished", "priority", "next_due_at", "id"], name="incident_urgent"),
            # A priority alone (P1 across every state); a plain index, not Django's pair with a LIKE one.
            models.Index(fields=["priority"], name="incident_priority"),
        ]
        permissions = [("view_all_incidents", "Can see every incident (supervisor reports)")]

    def clean(self) -> None:
        if self.occurred_at and self.occurred_at > timezone.now() + timezone.timedelta(minutes=5):
            raise ValidationError({"occurred_at": _("The time it happened cannot be in the future.")})
        if self.configuration_item_id and self.service_id and not self.configuration_item.services.filter(
                pk=self.service_id).exists():
            raise ValidationError({"configuration_item": _("This configuration item does not support the service.")})
        if self.parent_id and self.parent_id == self.pk:
            raise ValidationError({"parent": _("An incident cannot be its own parent.")})

    @property
    def is_open(self) -> bool:
        return self.state in OPEN_STATES

    @property
    def is_read_only(self) -> bool:
        return self.state in (State.CLOSED, State.CANCELLED)

    # --- transitions: each sets fields on its own row; services do everything around them ---

    @transition(field=state, source=State.REPORTED, target=State.CLASSIFIED, permission=may_classify,
                custom={"label": _("Classify"),
                        "description": _("Set the category and impact × urgency; the priority comes from the priority "
                                         "matrix.")})
    def classify(self, *, by, category: Category, impact: int, urgency: int) -> None:  # noqa: ANN001
        """Set category and impact × urgency; the priority comes from the matrix in force now."""
        self.category = category
        self.classified_at = timezone.now()
        self._set_priority(impact, urgency, at=self.classified_at)

    @transition(field=state, source=RECLASSIFIABLE, target=None, permission=may_classify,
                custom={"label": _("Reclassify"),
                        "description": _("New impact × urgency for an incident being worked; a raise to P1 or P2 pages "
                                         "the team, and the SLA clocks keep the time already counted."),
                        "comment_required": _("Say why the priority changes (what grew or shrank).")})
    def reclassify(self, *, by, impact: int, urgency: int) -> None:  # noqa: ANN001
        """New impact × urgency for an incident being worked; the priority comes from the matrix in force now, the
        state stays (the reason is the required comment)."""
        self._set_priority(impact, urgency, at=timezone.now())

    def _set_priority(self, impact: int, urgency: int, *, at) -> None:  # noqa: ANN001
        """Impact × urgency and the priority the matrix gives them; while nobody is assigned, the assign-by time
        of that priority counted from `at`."""
        self.impact = impact
        self.urgency = urgency
        self.priority = PriorityRule.priority_for(impact, urgency)
        if self.state in (State.REPORTED, State.CLASSIFIED):
            self.assign_due_at = assign_due_after(self.priority, at)
            self.assign_overdue_notified_at = None  # the new assign-by time is announced when it passes

    @transition(field=state, source=State.CLASSIFIED, target=State.ASSIGNED,
                permission=roles_allowed(roles.DUTY_OFFICER, roles.SUPERVISOR), custom={"label": _("Assign"),
                        "description": _("Give the incident to a team and/or an engineer.")})
    def assign(self, *, by, team=None, assignee=None) -> None:  # noqa: ANN001
        """Give the incident to a team and/or an engineer."""
        self._set_assignment(team, assignee)

    @transition(field=state, source=[State.ASSIGNED, State.DIAGNOSING, State.HANDLING, State.RECOVERING],
                target=RETURN_VALUE(State.ASSIGNED, State.DIAGNOSING, State.HANDLING, State.RECOVERING),
                permission=roles_allowed(roles.DUTY_OFFICER, roles.SUPERVISOR), custom={"label": _("Reassign"),
                        "description": _("Move the incident to another team or engineer; work carries on where "
                                         "it is.")})
    def reassign(self, *, by, team=None, assignee=None) -> str:  # noqa: ANN001
        """Move the incident to another team or engineer; work carries on where it is."""
        self._set_assignment(team, assignee)
        return self.state

    def _set_assignment(self, team, assignee) -> None:  # noqa: ANN001
        if team is None and assignee is None:
            raise ValidationError({"team": _("Choose a team or an engineer.")})
        if assignee is not None:
            if not assignee.is_active or not has_role(assignee, *roles.ENGINEERS, roles.SUPERVISOR):
                raise ValidationError({"assignee": _("Only an active engineer or supervisor can be assigned.")})
            teams = list(assignee.teams.filter(is_active=True))
            if team is None:
                if len(teams) != 1:
                    raise ValidationError({"team": _("Choose the team the engineer works this incident for.")})
                team = teams[0]
            elif team not in teams:
                raise ValidationError({"assignee": _("The engineer is not a member of this team.")})
            if not may_see(self, assignee):
                raise ValidationError({"assignee": _(
                    "%(name)s may not see this incident (a security incident is seen by the security team and the "
                    "supervisors only).") % {"name": assignee}})
        elif not readers(self, team.members.filter(is_active=True)).exists():
            raise ValidationError({"team": _(
                "Nobody in %(team)s may see this incident (a security incident is seen by the security team and the "
                "supervisors only).") % {"team": team}})
        self.team = team
        self.assignee = assignee
        self.assigned_at = timezone.now()

    @transition(field=state, source=State.ASSIGNED, target=State.DIAGNOSING, permission=is_assignee,
                custom={"label": _("Start diagnosis"),
                        "description": _("The assignee takes it up; the first response is recorded now.")})
    def start_diagnosis(self, *, by) -> None:  # noqa: ANN001
        """The assignee takes it up; the first response time stops here."""
        if self.assignee_id is None:
            self.assignee = by
        self.first_response_at = self.first_response_at or timezone.now()

    @transition(field=state, source=State.DIAGNOSING, target=State.HANDLING, permission=is_assignee,
                custom={"label": _("Start handling"),
                        "description": _("Record the diagnosis (cause and scope) and start handling.")})
    def start_handling(self, *, by, cause: str, scope: str) -> None:  # noqa: ANN001
        """Record the diagnosis (cause, scope) and start handling."""
        self.diagnosis_cause = cause
        self.diagnosis_scope = scope

    @transition(field=state, source=State.HANDLING, target=State.RECOVERING, permission=is_assignee,
                custom={"label": _("Restore service"),
                        "description": _("Record the measures taken; recovery is then confirmed by tests.")})
    def restore(self, *, by, measures: str) -> None:  # noqa: ANN001
        """Record the measures taken; recovery is then confirmed by tests."""
        self.measures = measures

    @transition(field=state, source=State.RECOVERING, target=RETURN_VALUE(State.RESOLVED, State.HANDLING),
                permission=is_assignee, custom={"label": _("Confirm recovery"),
                        "description": _("Function, performance and data tests, each with a note: all passed resolves "
                                         "the incident, any failure sends it back to handling.")})
    def confirm_recovery(self, *, by, function_ok: bool, function_note: str, performance_ok: bool,  # noqa: ANN001
                         performance_note: str, data_ok: bool, data_note: str, resolution: str = "") -> str:
        """Function, performance and data-integrity tests, each with a note; all passed → resolved,
        any failed → back to handling (故障處理制度：恢復後驗證)."""
        self.test_function_note = function_note
        self.test_performance_note = performance_note
        self.test_data_note = data_note
        if function_ok and performance_ok and data_ok:
            if not resolution.strip():
                raise ValidationError({"resolution": _("Describe the resolution.")})
            self.resolution = resolution
            self.resolved_at = timezone.now()
            self.resolved_by = by
            return State.RESOLVED
        return State.HANDLING

    @transition(field=state, source=[*WORKING_STATES, State.REPORTED], target=State.RESOLVED,
                permission=roles_allowed(*roles.ENGINEERS, roles.SUPERVISOR, roles.DUTY_OFFICER),
                custom={"label": _("Resolve with parent"), "internal": True})
    def resolve_with_parent(self, *, by, resolution: str) -> None:  # noqa: ANN001
        """A child resolved together with its parent, carrying the parent's resolution note; performed
        only by incidents.services.incident_transition for whoever resolves the parent."""
        self.resolution = resolution
        self.resolved_at = timezone.now()
        self.resolved_by = by

    @transition(field=state, source=State.RESOLVED, target=State.UNDER_REVIEW, permission=assignee_or_supervisor,
                custom={"label": _("Submit report"),
                        "description": _("The incident report (cause, process, measures, result) goes to the "
                                         "supervisor.")})
    def submit_report(self, *, by, cause: str, process: str, measures: str, result: str) -> None:  # noqa: ANN001
        """The incident report (cause, process, measures, result) goes to the supervisor."""
        self.report_cause, self.report_process = cause, process
        self.report_measures, self.report_result = measures, result
        self.report_submitted_at = timezone.now()

    @transition(field=state, source=State.UNDER_REVIEW, target=State.CLOSED, conditions=[has_review_if_major],
                permission=roles_allowed(roles.SUPERVISOR), custom={"label": _("Approve report"),
                        "description": _("Approve the report: the incident is closed and becomes read-only.")})
    def approve_report(self, *, by) -> None:  # noqa: ANN001
        """The supervisor approves the report; the incident is closed and read-only."""
        self.closed_at = timezone.now()

    @transition(field=state, source=State.UNDER_REVIEW, target=State.RESOLVED,
                permission=roles_allowed(roles.SUPERVISOR), custom={"label": _("Return report"),
                        "description": _("Send the report back to the assignee with what it needs."),
                        "comment_required": _("Say what the report needs.")})
    def return_report(self, *, by) -> None:  # noqa: ANN001
        """The supervisor sends the report back with a comment (required by the service)."""

    @transition(field=state, source=WORKING_STATES, target=State.ON_HOLD, permission=may_hold,
                custom={"label": _("Put on hold"),
                        "description": _("Wait for the caller, a vendor, parts or a change; the SLA clocks pause.")})
    def hold(self, *, by, reason: str) -> None:  # noqa: ANN001
        """Wait for the caller, a vendor, parts or a change; the SLA clock pauses."""
        self.held_from = self.state
        self.hold_reason = reason

    @transition(field=state, source=State.ON_HOLD, target=RETURN_VALUE(*WORKING_STATES), permission=may_hold,
                custom={"label": _("Resume"),
                        "description": _("Return to the state the incident was held in; the SLA clocks run again.")})
    def resume(self, *, by) -> str:  # noqa: ANN001
        """Return to the state the incident was held in."""
        previous, self.held_from, self.hold_reason = self.held_from or State.CLASSIFIED, "", ""
        return previous

    @transition(field=state, source=BEFORE_HANDLING, target=State.CANCELLED,
                permission=roles_allowed(roles.DUTY_OFFICER, roles.SUPERVISOR),
                custom={"label": _("Cancel the incident"),
                        "description": _("A duplicate or a false alarm, before handling starts.")})
    def cancel(self, *, by, reason: str, duplicate_of: "Incident | None" = None) -> None:  # noqa: ANN001
        """A duplicate or a false alarm, before handling starts."""
        if reason == CancelReason.DUPLICATE:
            if duplicate_of is None:
                raise ValidationError({"duplicate_of": _("Name the incident this one duplicates.")})
            if duplicate_of.pk == self.pk:
                raise ValidationError({"duplicate_of": _("An incident cannot duplicate itself.")})
        self.cancel_reason = reason
        self.duplicate_of = duplicate_of if reason == CancelReason.DUPLICATE else None

    @transition(field=state, source=[State.RESOLVED, State.UNDER_REVIEW], target=State.HANDLING,
                permission=may_reopen,
                custom={"label": _("Reopen"),
                        "description": _("The fault is back: work resumes in handling."), "comment_required": _("Give "
                                         "the reason for reopening.")})
    def reopen(self, *, by) -> None:  # noqa: ANN001
        """The fault is back; work resumes (the reason is the required comment)."""
        self.resolved_at = None
        self.resolved_by = None
        self.report_submitted_at = None

    @transition(field=state, source=OPEN_STATES, target=None, conditions=[is_not_major],
                permission=roles_allowed(roles.SUPERVISOR), custom={"label": _("Declare major incident"),
                        "description": _("Declare a major incident (重大故障): leadership is notified and a "
                                         "review meeting is needed before closing.")})
    def declare_major(self, *, by) -> None:  # noqa: ANN001
        """A supervisor declares a major incident (重大故障); leadership is notified."""
        self.is_major = True
        self.major_declared_at = timezone.now()


class MajorIncidentReview(models.Model):
    """The review meeting of a major incident: causes, lessons, preventive measures and owners."""

    incident = models.ForeignKey(Incident, verbose_name=_("incident"), on_delete=models.PROTECT,
                                 related_name="reviews")
    held_on = models.DateField(_("meeting date"))
    attendees = models.TextField(_("attendees"))
    causes = models.TextField(_("causes"))
    lessons = models.TextField(_("lessons learned"))
    preventive_measures = models.TextField(_("preventive measures"))
    owners = models.TextField(_("owners of the measures"))
    recorded_by = models.ForeignKey(settings.AUTH_USER_MODEL, verbose_name=_("recorded by"),
                                    on_delete=models.PROTECT, related_name="+")
    recorded_at = models.DateTimeField(_("recorded at"), default=timezone.now)

    class Meta:
        ordering = ["-held_on"]
        verbose_name = _("major incident review")
        verbose_name_plural = _("major incident reviews")

    def __str__(self) -> str:
        return f"{self.incident.number} · {self.held_on}"


class UrgentPaging(models.Model):
    """How a P1/P2 incident was paged when someone said who to page first (the people on duty): that first wave,
    and when the rest of those who are paged without it (the team, the supervisors) are paged if nobody has taken
    the incident up by then. The sweep settles each row once: it pages the second wave, or finds it answered."""

    incident = models.OneToOneField(Incident, verbose_name=_("incident"), on_delete=models.CASCADE,
                                    related_name="urgent_paging")
    paged_at = models.DateTimeField(_("paged at"), default=timezone.now)
    first_wave = models.JSONField(_("paged first"), default=list, help_text=_("The people paged first (ids)."))
    escalate_at = models.DateTimeField(_("rest of the team paged at"))
    settled_at = models.DateTimeField(_("settled at"), null=True, blank=True)
    escalated = models.BooleanField(_("rest of the team paged"), default=False)

    class Meta:
        verbose_name = _("urgent paging")
        verbose_name_plural = _("urgent pagings")
        indexes = [models.Index(fields=["escalate_at"], condition=Q(settled_at__isnull=True),
                                name="urgent_paging_due")]

    def __str__(self) -> str:
        return f"{self.incident.number} · {self.paged_at:%Y-%m-%d %H:%M}"
