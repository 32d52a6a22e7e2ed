"""Problems and their state machine (DESIGN §4 "Problem", 問題管理流程), the links to incidents, the root-cause
analysis (fishbone and 5 whys), the solution's action items, recurring-incident candidates and the known-error
database."""

from datetime import timedelta
from typing import Any

from django.conf import settings
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django_fsm import ConcurrentTransitionMixin, FSMField, transition

from opscenter.core import roles
from opscenter.core.exceptions import TransitionForbidden
from opscenter.core.models import Ticket, TicketQuerySet
from opscenter.core.roles import has_role
from opscenter.core.workflow import condition, roles_allowed
from problems.choices import (
    KNOWN_ERROR_STATES,
    OPEN_STATES,
    ActionState,
    CandidateState,
    KnownErrorState,
    Source,
    State,
)

# Who works problems (問題管理負責人 and the engineers they organise), and who reads them besides.
WORKERS = (roles.PROBLEM_MANAGER, *roles.ENGINEERS, roles.SUPERVISOR)
READERS = (*roles.IT_STAFF, roles.AUDITOR)
managers_only = roles_allowed(roles.PROBLEM_MANAGER, roles.SUPERVISOR)


def _authenticated(user: Any) -> bool:
    return bool(user and getattr(user, "is_authenticated", False) and user.is_active)


class ProblemPolicy(models.Model):
    """The rules of problem management (one row, edited by problem managers and supervisors in the admin)."""

    recurrence_threshold = models.PositiveSmallIntegerField(
        _("recurring after (incidents)"), default=3, validators=[MinValueValidator(2)],
        help_text=_("Incidents on the same service or configuration item and category within the window that make "
                    "a problem candidate."))
    recurrence_window_days = models.PositiveSmallIntegerField(
        _("within (days)"), default=30, validators=[MinValueValidator(1), MaxValueValidator(366)])
    observation_days = models.PositiveSmallIntegerField(
        _("observation window (days)"), default=14, validators=[MinValueValidator(1), MaxValueValidator(366)],
        help_text=_("After every action is done, how long no recurrence must be seen before the report."))

    class Meta:
        verbose_name = _("problem policy")
        verbose_name_plural = _("problem policy")

    def __str__(self) -> str:
        return str(_("Problem policy"))

    @classmethod
    def current(cls) -> "ProblemPolicy":
        return cls.objects.order_by("pk").first() or cls()


class ProblemQuerySet(TicketQuerySet):
    def visible_to(self, user: Any) -> "ProblemQuerySet":
        """IT staff and auditors read problems; department users none."""
        if not _authenticated(user) or not has_role(user, *READERS):
            return self.none()
        return self.all()


def is_owner_or_manager(problem: "Problem", user: Any) -> bool:
    """The problem's owner, a problem manager or a supervisor."""
    if not _authenticated(user):
        return False
    return user.pk == problem.owner_id or has_role(user, roles.PROBLEM_MANAGER, roles.SUPERVISOR)


@condition(_("Record the root cause (a summary, and a fishbone or a 5-whys chain) first."))
def has_root_cause(problem: "Problem") -> bool:
    return bool(problem.root_cause.strip()) and bool(problem.fishbone or problem.five_whys)


@condition(_("Plan at least one action with an owner and a due date first."))
def has_planned_action(problem: "Problem") -> bool:
    # Read through `actions.all()`: a list that prefetched the actions asks nothing more per row.
    return any(a.owner_id and a.due_date and a.state != ActionState.DROPPED for a in problem.actions.all())


@condition(_("Every action must be done (or dropped, with at least one done) first."))
def actions_done(problem: "Problem") -> bool:
    states = {a.state for a in problem.actions.all()}
    return ActionState.DONE in states and not states & {ActionState.OPEN, ActionState.IN_PROGRESS}


@condition(_("The observation window has not ended yet."))
def observation_over(problem: "Problem") -> bool:
    return problem.observation_ends_at is not None and problem.observation_ends_at <= timezone.now()


@condition(_("Fill in the report: cause, solution, result and lessons learned."))
def report_complete(problem: "Problem") -> bool:
    return all(getattr(problem, f).strip() for f in ("report_cause", "report_solution", "report_result",
                                                    "report_lessons"))


def _report_approver_refusal(problem: "Problem", user: Any) -> Exception | None:
    if not (_authenticated(user) and has_role(user, roles.PROBLEM_MANAGER, roles.SUPERVISOR)):
        return TransitionForbidden(_("Only a problem manager approves or returns a problem report."))
    if user.pk == problem.report_submitted_by_id:
        return TransitionForbidden(_("Whoever submitted the report cannot approve it (segregation of duties)."),
                                   code="segregation_of_duties")
    return None


def may_review_report(problem: "Problem", user: Any) -> bool:
    return _report_approver_refusal(problem, user) is None


may_review_report.refusal = _report_approver_refusal  # type: ignore[attr-defined]


class Problem(Ticket):
    """The unknown cause of one or more incidents, worked until its report is approved (問題管理流程)."""

    NUMBER_PREFIX = "PRB"

    state = FSMField(_("state"), default=State.IDENTIFIED, choices=State.choices, protected=True)

    # identification
    description = models.TextField(_("description"))
    source = models.CharField(_("source"), max_length=16, choices=Source.choices, default=Source.INCIDENTS)
    source_reference = models.CharField(
        _("alarm or feedback"), max_length=255, blank=True,
        help_text=_("The monitoring alarm (its system and identifier) or who gave the feedback, and where."))
    service = models.ForeignKey("core.Service", verbose_name=_("service"), null=True, blank=True,
                                on_delete=models.PROTECT, related_name="problems")
    configuration_item = models.ForeignKey("core.ConfigurationItem", verbose_name=_("configuration item"),
                                           null=True, blank=True, on_delete=models.PROTECT, related_name="problems")
    category = models.ForeignKey("incidents.Category", verbose_name=_("category"), null=True, blank=True,
                                 on_delete=models.PROTECT, related_name="problems")
    team = models.ForeignKey("core.Team", verbose_name=_("team"), null=True, blank=True, on_delete=models.PROTECT,
                             related_name="problems")
    owner = models.ForeignKey(settings.AUTH_USER_MODEL, verbose_name=_("owner"), null=True, blank=True,
                              on_delete=models.PROTECT, related_name="problems_owned")
    incidents = models.ManyToManyField("incidents.Incident", verbose_name=_("incidents"), blank=True,
                                       through="ProblemIncident", related_name="problems")

    # investigation (問題調查)
    frequency = models.TextField(_("frequency"), blank=True)
    scope = models.TextField(_("scope"), blank=True)
    impact = models.TextField(_("impact"), blank=True)
    data_collected = models.TextField(_("data collected"), blank=True,
                                      help_text=_("Logs, metrics and user feedback gathered (attach files below)."))

    # analysis (問題分析): the structure is validated by problems.analysis
    root_cause = models.TextField(_("root cause"), blank=True)
    fishbone = models.JSONField(
        _("fishbone"), default=dict, blank=True,
        help_text=_('Causes per category: {"people": ["…"], "process": [], "technology": [], "environment": [], '
                    '"suppliers": [], "measurement": []}.'))
    five_whys = models.JSONField(_("5 whys"), default=list, blank=True,
                                 help_text=_('The chain of whys: [{"why": "…", "because": "…"}, …].'))

    # verification (問題驗證)
    observation_started_at = models.DateTimeField(_("observation started"), null=True, blank=True, editable=False)
    observation_ends_at = models.DateTimeField(_("observation ends"), null=True, blank=True, editable=False)

    # report (問題解決報告) and closure
    report_cause = models.TextField(_("report: cause"), blank=True)
    report_solution = models.TextField(_("report: solution"), blank=True)
    report_result = models.TextField(_("report: result"), blank=True)
    report_lessons = models.TextField(_("report: lessons learned"), blank=True)
    report_submitted_at = models.DateTimeField(_("report submitted at"), null=True, blank=True, editable=False)
    report_submitted_by = models.ForeignKey(settings.AUTH_USER_MODEL, verbose_name=_("report submitted by"),
                                            null=True, blank=True, on_delete=models.PROTECT, related_name="+",
                                            editable=False)
    closed_at = models.DateTimeField(_("closed at"), null=True, blank=True, editable=False)

    changes = models.ManyToManyField("changes.Change", verbose_name=_("changes"), blank=True,
                                     related_name="problems")

    objects = ProblemQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at", "-pk"]
        verbose_name = _("problem")
        verbose_name_plural = _("problems")
        indexes = [
            models.Index(fields=["state", "created_at", "id"], name="problem_state_newest"),
            models.Index(fields=["owner", "state"], name="problem_owner"),
            models.Index(fields=["state", "observation_ends_at"], name="problem_observation"),
        ]

    @property
    def is_open(self) -> bool:
        return self.state in OPEN_STATES

    @property
    def is_read_only(self) -> bool:
        """Closed and cancelled problems are records: nothing is added or changed any more."""
        return self.state in (State.CLOSED, State.CANCELLED)

    @transition(field=state, source=State.IDENTIFIED, target=State.INVESTIGATING, permission=is_owner_or_manager,
                custom={"label": _("Start the investigation"),
                        "description": _("Frequency, scope and impact are investigated and data collected.")})
    def investigate(self, *, by: Any, owner: Any = None) -> None:
        if owner is not None:
            self.owner = owner
        elif self.owner_id is None:
            self.owner = by

    @transition(field=state, source=State.INVESTIGATING, target=State.ANALYZING, permission=is_owner_or_manager,
                custom={"label": _("Start the analysis"),
                        "description": _("Find the root cause: a fishbone diagram and/or a 5-whys chain.")})
    def analyze(self, *, by: Any) -> None:
        """問題分析."""

    @transition(field=state, source=State.ANALYZING, target=State.SOLVING,
                conditions=[has_root_cause, has_planned_action], permission=is_owner_or_manager,
                custom={"label": _("Start solving"),
                        "description": _("The root cause is recorded and the solution's actions are planned.")})
    def solve(self, *, by: Any) -> None:
        """問題解決."""

    @transition(field=state, source=State.SOLVING, target=State.VERIFYING, conditions=[actions_done],
                permission=is_owner_or_manager,
                custom={"label": _("Verify"),
                        "description": _("Every action is done: the observation window starts; a recurrence "
                                         "sends the problem back to solving.")})
    def verify(self, *, by: Any) -> None:
        """問題驗證: no recurrence may be seen for the policy's observation window."""
        now = timezone.now()
        self.observation_started_at = now
        self.observation_ends_at = now + timedelta(days=ProblemPolicy.current().observation_days)

    @transition(field=state, source=[State.VERIFYING, State.UNDER_REVIEW], target=State.SOLVING,
                permission=is_owner_or_manager,
                custom={"label": _("Back to solving"),
                        "comment_required": _("Say what recurred or what is missing.")})
    def reopen(self, *, by: Any = None) -> None:
        """A recurrence during the observation window (by the system, with the incident named) or a manager's
        decision."""
        self.observation_started_at = self.observation_ends_at = None

    @transition(field=state, source=State.VERIFYING, target=State.UNDER_REVIEW,
                conditions=[observation_over, actions_done, report_complete], permission=is_owner_or_manager,
                custom={"label": _("Submit the report"),
                        "description": _("The problem report (cause, solution, result, lessons) goes to the problem "
                                         "manager.")})
    def submit_report(self, *, by: Any) -> None:
        self.report_submitted_at, self.report_submitted_by = timezone.now(), by

    @transition(field=state, source=State.UNDER_REVIEW, target=State.CLOSED, conditions=[actions_done],
                permission=may_review_report,
                custom={"label": _("Approve the report"),
                        "description": _("The problem is closed and its known error updated.")})
    def approve_report(self, *, by: Any) -> None:
        self.closed_at = timezone.now()

    @transition(field=state, source=State.UNDER_REVIEW, target=State.VERIFYING, permission=may_review_report,
                custom={"label": _("Return the report"),
                        "comment_required": _("Say what the report lacks.")})
    def return_report(self, *, by: Any) -> None:
        """Back to its author, still verified."""

    @transition(field=state, source=[State.IDENTIFIED, State.INVESTIGATING, State.ANALYZING, State.SOLVING,
                                     State.VERIFYING],
                target=State.CANCELLED, permission=managers_only,
                custom={"label": _("Cancel the problem"), "comment_required": _("Say why the problem is cancelled.")})
    def cancel(self, *, by: Any) -> None:
        """Not a problem after all, or a duplicate."""


class ProblemIncident(models.Model):
    """An incident linked to a problem (one row per pair; links and unlinks are on the problem's timeline)."""

    problem = models.ForeignKey(Problem, verbose_name=_("problem"), on_delete=models.CASCADE,
                                related_name="incident_links")
    incident = models.ForeignKey("incidents.Incident", verbose_name=_("incident"), on_delete=models.CASCADE,
                                 related_name="problem_links")
    linked_by = models.ForeignKey(settings.AUTH_USER_MODEL, verbose_name=_("linked by"), null=True, blank=True,
                                  on_delete=models.PROTECT, related_name="+")
    linked_at = models.DateTimeField(_("linked at"), default=timezone.now)

    class Meta:
        ordering = ["problem", "linked_at"]
        verbose_name = _("linked incident")
        verbose_name_plural = _("linked incidents")
        constraints = [models.UniqueConstraint(fields=["problem", "incident"], name="problem_incident_once")]
        indexes = [models.Index(fields=["incident"], name="problem_link_incident")]

    def __str__(self) -> str:
        return f"{self.problem_id} ↔ {self.incident_id}"


# --- Action items of the solution ------------------------------------------------------------------------


def _action_refusal(action: "ActionItem", user: Any) -> Exception | None:
    if _authenticated(user) and (user.pk == action.owner_id
                                 or has_role(user, roles.PROBLEM_MANAGER, roles.SUPERVISOR)
                                 or user.pk == action.problem.owner_id):
        return None
    return TransitionForbidden(_("Only the action's owner, the problem's owner or a problem manager moves it."),
                               code="not_the_owner")


def may_work_action(action: "ActionItem", user: Any) -> bool:
    return _action_refusal(action, user) is None


may_work_action.refusal = _action_refusal  # type: ignore[attr-defined]


# While the root cause is analysed and the solution carried out, the plan's actions are worked.
PLAN_STATES = (State.ANALYZING, State.SOLVING)


@condition(_("Actions are worked while the problem is analysed or solved."))
def plan_open(action: "ActionItem") -> bool:
    return action.problem.state in PLAN_STATES


class ActionQuerySet(models.QuerySet):
    def overdue(self, at=None) -> "ActionQuerySet":  # noqa: ANN001
        today = timezone.localdate(at or timezone.now())
        return self.filter(state__in=[ActionState.OPEN, ActionState.IN_PROGRESS], due_date__lt=today)


class ActionItem(ConcurrentTransitionMixin, models.Model):
    """A measure of the solution plan: its steps, owner and due date (措施、實施步驟、責任人和時間節點)."""

    STATE_FIELD = "state"

    problem = models.ForeignKey(Problem, verbose_name=_("problem"), on_delete=models.CASCADE,
                                related_name="actions")
    measure = models.CharField(_("measure"), max_length=200)
    steps = models.TextField(_("steps"), blank=True)
    owner = models.ForeignKey(settings.AUTH_USER_MODEL, verbose_name=_("owner"), null=True, blank=True,
                              on_delete=models.PROTECT, related_name="problem_actions")
    due_date = models.DateField(_("due date"), null=True, blank=True)
    state = FSMField(_("state"), max_length=16, choices=ActionState.choices, default=ActionState.OPEN,
                     protected=True)
    result = models.TextField(_("result"), blank=True)
    done_at = models.DateTimeField(_("done at"), null=True, blank=True, editable=False)
    overdue_notified_on = models.DateField(_("overdue reported on"), null=True, blank=True, editable=False)
    created_at = models.DateTimeField(_("created at"), default=timezone.now, editable=False)

    objects = ActionQuerySet.as_manager()

    class Meta:
        ordering = ["problem", "due_date", "pk"]
        verbose_name = _("action item")
        verbose_name_plural = _("action items")
        indexes = [models.Index(fields=["state", "due_date"], name="problem_action_due"),
                   models.Index(fields=["owner", "state"], name="problem_action_owner")]

    def __str__(self) -> str:
        return self.measure

    @transition(field=state, source=ActionState.OPEN, target=ActionState.IN_PROGRESS, conditions=[plan_open],
                permission=may_work_action, custom={"label": _("Start")})
    def start(self, *, by: Any = None) -> None:
        """The owner is on it."""

    @transition(field=state, source=[ActionState.OPEN, ActionState.IN_PROGRESS], target=ActionState.DONE,
                conditions=[plan_open], permission=may_work_action, custom={"label": _("Mark done")})
    def complete(self, *, by: Any = None, result: str = "") -> None:
        self.result = result.strip() or self.result
        self.done_at = timezone.now()

    @transition(field=state, source=[ActionState.OPEN, ActionState.IN_PROGRESS], target=ActionState.DROPPED,
                conditions=[plan_open], permission=managers_only,
                custom={"label": _("Drop"), "comment_required": _("Say why the action is dropped.")})
    def drop(self, *, by: Any = None) -> None:
        """No longer needed."""


# --- Recurring-incident candidates ---------------------------------------------------------------------


class Candidate(ConcurrentTransitionMixin, models.Model):
    """Incidents on one service or configuration item and category that recur over the policy's threshold within
    its window, proposed by the periodic task; accepted into a problem or dismissed (never proposed again for the
    same incidents: `fingerprint` is unique)."""

    STATE_FIELD = "state"

    service = models.ForeignKey("core.Service", verbose_name=_("service"), null=True, blank=True,
                                on_delete=models.CASCADE, related_name="+")
    configuration_item = models.ForeignKey("core.ConfigurationItem", verbose_name=_("configuration item"),
                                           null=True, blank=True, on_delete=models.CASCADE, related_name="+")
    category = models.ForeignKey("incidents.Category", verbose_name=_("category"), null=True, blank=True,
                                 on_delete=models.CASCADE, related_name="+")
    incidents = models.ManyToManyField("incidents.Incident", verbose_name=_("incidents"), related_name="+")
    fingerprint = models.CharField(_("fingerprint"), max_length=64, unique=True, editable=False,
                                   help_text=_("The incidents it names, hashed."))
    state = FSMField(_("state"), max_length=16, choices=CandidateState.choices, default=CandidateState.PROPOSED,
                     protected=True)
    proposed_at = models.DateTimeField(_("proposed at"), default=timezone.now, editable=False)
    problem = models.ForeignKey(Problem, verbose_name=_("problem"), null=True, blank=True,
                                on_delete=models.SET_NULL, related_name="+", editable=False)
    decided_by = models.ForeignKey(settings.AUTH_USER_MODEL, verbose_name=_("decided by"), null=True, blank=True,
                                   on_delete=models.PROTECT, related_name="+", editable=False)

    class Meta:
        ordering = ["-proposed_at", "-pk"]
        verbose_name = _("problem candidate")
        verbose_name_plural = _("problem candidates")
        indexes = [models.Index(fields=["state", "proposed_at"], name="candidate_waiting")]

    def __str__(self) -> str:
        return " · ".join(str(part) for part in (self.service or self.configuration_item, self.category) if part)

    @transition(field=state, source=CandidateState.PROPOSED, target=CandidateState.ACCEPTED,
                permission=managers_only, custom={"label": _("Accept as a problem")})
    def accept(self, *, by: Any) -> None:
        """The service creates the problem with the links."""
        self.decided_by = by

    @transition(field=state, source=CandidateState.PROPOSED, target=CandidateState.DISMISSED,
                permission=managers_only, custom={"label": _("Dismiss"),
                                                  "comment_required": _("Say why these incidents are not a problem.")})
    def dismiss(self, *, by: Any) -> None:
        self.decided_by = by


# --- Known errors ----------------------------------------------------------------------------------------


class KnownErrorQuerySet(TicketQuerySet):
    def visible_to(self, user: Any) -> "KnownErrorQuerySet":
        if not _authenticated(user) or not has_role(user, *READERS):
            return self.none()
        return self.all()

    def published(self) -> "KnownErrorQuerySet":
        return self.filter(state=KnownErrorState.PUBLISHED)


@condition(_("A known error needs its symptom, root cause and workaround."))
def known_error_complete(known_error: "KnownError") -> bool:
    return all(getattr(known_error, f).strip() for f in ("symptom", "root_cause", "workaround"))


@condition(_("A known error is recorded from the problem's analysis onward."))
def problem_analysed(known_error: "KnownError") -> bool:
    return known_error.problem_id is None or known_error.problem.state in KNOWN_ERROR_STATES


class KnownError(Ticket):
    """A known error (已知錯誤): symptom, root cause and workaround, published for engineers and suggested on new
    incidents that match; retired ones are never suggested."""

    NUMBER_PREFIX = "KE"

    state = FSMField(_("state"), default=KnownErrorState.DRAFT, choices=KnownErrorState.choices, protected=True)
    problem = models.ForeignKey(Problem, verbose_name=_("problem"), null=True, blank=True, on_delete=models.PROTECT,
                                related_name="known_errors")
    symptom = models.TextField(_("symptom"))
    root_cause = models.TextField(_("root cause"), blank=True)
    workaround = models.TextField(_("workaround"), blank=True)
    permanent_fix = models.TextField(
        _("permanent fix"), blank=True,
        help_text=_("The solution of its problem's approved report, written when the problem manager approves it."))
    service = models.ForeignKey("core.Service", verbose_name=_("service"), null=True, blank=True,
                                on_delete=models.PROTECT, related_name="known_errors")
    configuration_item = models.ForeignKey("core.ConfigurationItem", verbose_name=_("configuration item"),
                                           null=True, blank=True, on_delete=models.PROTECT,
                                           related_name="known_errors")
    category = models.ForeignKey("incidents.Category", verbose_name=_("category"), null=True, blank=True,
                                 on_delete=models.PROTECT, related_name="known_errors")
    published_at = models.DateTimeField(_("published at"), null=True, blank=True, editable=False)
    retired_at = models.DateTimeField(_("retired at"), null=True, blank=True, editable=False)

    objects = KnownErrorQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at", "-pk"]
        verbose_name = _("known error")
        verbose_name_plural = _("known errors")
        indexes = [
            models.Index(fields=["state", "service"], name="known_error_service"),
            models.Index(fields=["state", "configuration_item"], name="known_error_ci"),
        ]

    @property
    def is_read_only(self) -> bool:
        """A retired known error is a record: nothing is added or changed any more."""
        return self.state == KnownErrorState.RETIRED

    @transition(field=state, source=KnownErrorState.DRAFT, target=KnownErrorState.PUBLISHED,
                conditions=[known_error_complete, problem_analysed], permission=managers_only,
                custom={"label": _("Publish"),
                        "description": _("Engineers find it, new matching incidents suggest it, and every linked open "
                                         "incident gets the workaround noted.")})
    def publish(self, *, by: Any) -> None:
        self.published_at = timezone.now()

    @transition(field=state, source=[KnownErrorState.DRAFT, KnownErrorState.PUBLISHED],
                target=KnownErrorState.RETIRED, permission=managers_only,
                custom={"label": _("Retire"), "comment_required": _("Say why the known error is retired.")})
    def retire(self, *, by: Any) -> None:
        self.retired_at = timezone.now()
