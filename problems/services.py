"""Operations on problems: identify (from incidents, an alarm or feedback), edit what the state allows (the
investigation, the structured root-cause analysis, the report), link and unlink incidents, the solution's action
items, transitions through the kernel's one service, and raising a change from a problem."""

from collections.abc import Iterable
from datetime import date
from typing import Any

from django.contrib.contenttypes.models import ContentType
from django.db import transaction
from django.urls import reverse
from django.utils.translation import gettext as _

from changes.models import Change
from changes.services import change_create, may_request
from incidents.models import Incident
from opscenter.core.exceptions import (
    InvalidInput,
    InvalidState,
    NotFound,
    ReadOnlyRecord,
    TransitionForbidden,
)
from opscenter.core.models import FieldChange
from opscenter.core.outbox import notify
from opscenter.core.roles import has_role
from opscenter.core.services import is_read_only_user, perform_transition, ticket_create, ticket_update
from problems import analysis
from problems.choices import ActionState, Source, State
from problems.models import PLAN_STATES, WORKERS, ActionItem, Problem, ProblemIncident, is_owner_or_manager
from problems.notifications import ACTION_ASSIGNED, action_params

IDENTIFICATION = frozenset({"title", "description", "service", "configuration_item", "category", "team", "owner"})
INVESTIGATION = frozenset({"frequency", "scope", "impact", "data_collected"})
ANALYSIS = frozenset({"root_cause", "fishbone", "five_whys"})
REPORT = frozenset({"report_cause", "report_solution", "report_result", "report_lessons"})

# What may be edited, by state (the rest changes only through transitions).
EDITABLE: dict[str, frozenset[str]] = {
    State.IDENTIFIED: IDENTIFICATION | {"source", "source_reference"},
    State.INVESTIGATING: IDENTIFICATION | INVESTIGATION,
    State.ANALYZING: IDENTIFICATION | INVESTIGATION | ANALYSIS,
    State.SOLVING: IDENTIFICATION | INVESTIGATION | ANALYSIS,
    State.VERIFYING: IDENTIFICATION | REPORT,
}
CREATE_FIELDS = IDENTIFICATION | {"source", "source_reference"}
ACTION_FIELDS = frozenset({"measure", "steps", "owner", "due_date"})
# A change implements the solution: raised once the root cause is being analysed.
CHANGE_STATES = (State.ANALYZING, State.SOLVING)


# --- who may do what -------------------------------------------------------------------------------------


def may_work(user: Any) -> bool:
    """Problem managers, engineers and supervisors identify problems, edit them and link incidents (auditors
    only read)."""
    return bool(user and user.is_authenticated and user.is_active and has_role(user, *WORKERS)
                and not is_read_only_user(user))


def may_edit(problem: Problem, user: Any) -> bool:
    return not problem.is_read_only and (may_work(user) or (user.is_authenticated and user.pk == problem.owner_id))


def may_plan(problem: Problem, user: Any) -> bool:
    """The problem's owner, a problem manager or a supervisor plans its actions (and raises its changes)."""
    return problem.state in PLAN_STATES and is_owner_or_manager(problem, user)


def check_may_edit(problem: Problem, user: Any) -> None:
    """Refuse whoever may not edit the problem (403), or a closed or cancelled one (409)."""
    _check_open(problem)
    if not may_edit(problem, user):
        raise TransitionForbidden(_("You may not edit this problem."))


def check_may_link(problem: Problem, user: Any) -> None:
    """Refuse linking incidents to a closed or cancelled problem (409), or by one who does not work problems."""
    _check_open(problem)
    _check_may_work(user)


def check_may_plan(problem: Problem, user: Any) -> None:
    """Refuse planning actions outside analysis and solving (409), or by one who does not own or manage it (403)."""
    _check_open(problem)
    if problem.state not in PLAN_STATES:
        raise InvalidState(_("Actions are planned while the problem is analysed or solved."))
    if not is_owner_or_manager(problem, user) or is_read_only_user(user):
        raise TransitionForbidden(_("The problem's owner, a problem manager or a supervisor plans its actions."))


def _check_may_work(user: Any) -> None:
    if not may_work(user):
        raise TransitionForbidden(_("Only problem managers, engineers and supervisors work on problems."))


def _check_open(problem: Problem) -> None:
    if problem.is_read_only:
        raise ReadOnlyRecord()


def _check_staff(user: Any, field: str) -> None:
    """An owner of a problem or of an action is one of those who work problems."""
    if user is not None and not (user.is_active and has_role(user, *WORKERS)):
        raise InvalidInput({field: [_("Choose a problem manager, an engineer or a supervisor.")]})


def _unknown(data: dict[str, Any], accepted: Iterable[str]) -> None:
    unknown = sorted(set(data) - set(accepted))
    if unknown:
        raise InvalidInput({field: [_("This field is not accepted here.")] for field in unknown})


# --- incidents -------------------------------------------------------------------------------------------


def visible_incidents(user: Any, incidents: Iterable[Incident | int]) -> list[Incident]:
    """The incidents named (rows or ids), each one the user may see; any other is refused as not found (404), the
    same whether it does not exist or is hidden from them."""
    ids = list(dict.fromkeys(getattr(i, "pk", i) for i in incidents))
    found = {i.pk: i for i in Incident.objects.visible_to(user).filter(pk__in=ids).only("pk", "number", "title")}
    missing = [pk for pk in ids if pk not in found]
    if missing:
        raise NotFound({"incidents": [_("There is no incident with the id %(ids)s.") % {
            "ids": ", ".join(str(pk) for pk in missing)}]})
    return [found[pk] for pk in ids]


def _numbers(incidents: Iterable[Any]) -> str:
    return ", ".join(sorted(i.number for i in incidents))


def _write_links(problem: Problem, incidents: list[Incident], user: Any) -> list[Incident]:
    """Link the incidents not linked yet (one row per pair, whatever is asked twice); the newly linked ones."""
    linked = set(ProblemIncident.objects.filter(problem=problem).values_list("incident_id", flat=True))
    new = [i for i in incidents if i.pk not in linked]
    ProblemIncident.objects.bulk_create(
        [ProblemIncident(problem=problem, incident=i, linked_by=user) for i in new], ignore_conflicts=True)
    return new


# --- identify ----------------------------------------------------------------------------------------------


def problem_create(*, user: Any, data: dict[str, Any], incidents: Iterable[Incident | int] = ()) -> Problem:
    """Identify a problem (問題識別): from one or more incidents (linked to it), a monitoring alarm or user
    feedback (named in `source_reference`), or found by an engineer. Its owner is whoever identifies it unless
    another is named (the investigation may name another)."""
    _check_may_work(user)
    data = dict(data)
    _unknown(data, CREATE_FIELDS)
    source = data.setdefault("source", Source.INCIDENTS)
    linked = visible_incidents(user, incidents)
    if source == Source.INCIDENTS and not linked:
        raise InvalidInput({"incidents": [_("Name at least one incident of the problem.")]})
    if source in (Source.MONITORING, Source.FEEDBACK) and not (data.get("source_reference") or "").strip():
        raise InvalidInput({"source_reference": [
            _("Name the alarm (its system and identifier).") if source == Source.MONITORING
            else _("Say who gave the feedback, and where.")]})
    _check_staff(data.get("owner"), "owner")
    if data.get("owner") is None:  # whoever identifies it owns it until someone else is named
        data["owner"] = user
    problem = Problem(created_by=user, **data)
    return ticket_create(problem, user=user, transition="identify",
                         log_data={"source": source, "incidents": [i.number for i in linked]},
                         then=lambda created: _write_links(created, linked, user))


# --- edit ------------------------------------------------------------------------------------------------


def problem_update(problem: Problem, *, user: Any, changes: dict[str, Any]) -> Problem:
    """Edit what the state allows (the identification, the investigation, the root-cause analysis as structure,
    the report), each old and new value on the timeline; a malformed fishbone or 5-whys chain is refused (400)
    naming the field."""
    check_may_edit(problem, user)
    changes = dict(changes)
    for field in ("state", "number"):
        if field in changes:
            raise InvalidInput({field: [_("Set by transitions only.")]})
    editable = EDITABLE.get(problem.state, frozenset())
    refused = sorted(set(changes) - editable)
    if refused:
        raise InvalidInput({field: [_("This field cannot be changed now.")] for field in refused})
    if "owner" in changes:
        _check_staff(changes["owner"], "owner")
    structured = {}
    if "fishbone" in changes:
        structured["fishbone"] = analysis.clean_fishbone(changes.pop("fishbone"))
    if "five_whys" in changes:
        structured["five_whys"] = analysis.clean_five_whys(changes.pop("five_whys"))

    def prepare(locked: Problem) -> list[tuple[str, str, str]]:
        """The analysis's structure, stored as cleaned; on the timeline as data (worded for each reader)."""
        records = []
        for field, value in structured.items():
            if getattr(locked, field) != value:
                records.append((field, analysis.as_record(getattr(locked, field)), analysis.as_record(value)))
                setattr(locked, field, value)
        return records

    return ticket_update(problem, user=user, changes=changes, editable=editable, prepare=prepare)


def problem_link_incidents(problem: Problem, *, user: Any, incidents: Iterable[Incident | int]) -> list[Incident]:
    """Link incidents the user may see (others: 404) to an open problem; one already linked stays linked once.
    The change is on the problem's timeline; returns the incidents newly linked."""
    check_may_link(problem, user)
    wanted = visible_incidents(user, incidents)
    if not wanted:
        raise InvalidInput({"incidents": [_("Name at least one incident.")]})
    added: list[Incident] = []

    def prepare(locked: Problem) -> list[tuple[str, str, str]]:
        before = list(locked.incidents.only("pk", "number"))
        added.extend(_write_links(locked, wanted, user))
        return [("incidents", _numbers(before), _numbers([*before, *added]))] if added else []

    ticket_update(problem, user=user, changes={}, editable=frozenset(), prepare=prepare)
    return added


def problem_unlink_incident(problem: Problem, *, user: Any, incident: Incident | int) -> None:
    """Unlink an incident the user may see (others: 404) from an open problem, on its timeline; one not linked
    is refused (404)."""
    check_may_link(problem, user)
    (target,) = visible_incidents(user, [incident])

    def prepare(locked: Problem) -> list[tuple[str, str, str]]:
        before = list(locked.incidents.only("pk", "number"))
        if not ProblemIncident.objects.filter(problem=locked, incident=target).delete()[0]:
            raise NotFound({"incident": [_("%(number)s is not linked to this problem.") % {
                "number": target.number}]})
        return [("incidents", _numbers(before), _numbers(i for i in before if i.pk != target.pk))]

    ticket_update(problem, user=user, changes={}, editable=frozenset(), prepare=prepare)


# --- transitions -----------------------------------------------------------------------------------------


def problem_transition(problem: Problem, name: str, *, user: Any, comment: str = "",
                       data: dict[str, Any] | None = None) -> Problem:
    """Perform one problem transition through the kernel's transition service (an owner named when the
    investigation starts must be one who works problems)."""
    data = dict(data or {})
    if name == "investigate":
        if data.get("owner") is None:
            data.pop("owner", None)
        _check_staff(data.get("owner"), "owner")
    then = None
    if name == "approve_report":
        from problems.known_errors import known_errors_resolved  # the known errors build on this module

        def then(locked: Problem, log: Any) -> None:
            known_errors_resolved(locked, user=user)

    return perform_transition(problem, name, user=user, comment=comment, data=data, then=then)


# --- the solution's action items -------------------------------------------------------------------------


def _action_text(action: ActionItem) -> str:
    """An action as the problem's timeline keeps it (data, worded for each reader): the measure, its owner, due
    date and state."""
    return analysis.as_record({"measure": action.measure, "owner": str(action.owner) if action.owner_id else "",
                               "due_date": action.due_date.isoformat() if action.due_date else "",
                               "state": action.state})


def _record_action(problem: Problem, user: Any, old: str, new: str) -> None:
    FieldChange.objects.create(content_type=ContentType.objects.get_for_model(Problem), object_id=problem.pk,
                               field="actions", old_value=old, new_value=new, actor=user)


def _notify_action_owner(action: ActionItem, user: Any) -> None:
    if action.owner_id and action.owner_id != getattr(user, "pk", None):
        notify(kind=ACTION_ASSIGNED, recipients=[action.owner], params=action_params(action, actor=user),
               link=reverse("problems:problem-detail", args=[action.problem_id]) + "#plan")


def _check_action_values(data: dict[str, Any]) -> None:
    if "measure" in data and not (data["measure"] or "").strip():
        raise InvalidInput({"measure": [_("Say what is to be done.")]})
    if "owner" in data:
        _check_staff(data["owner"], "owner")
    due = data.get("due_date")
    if due is not None and not isinstance(due, date):
        raise InvalidInput({"due_date": [_("Give a date.")]})


def action_add(problem: Problem, *, user: Any, data: dict[str, Any]) -> ActionItem:
    """Add an action to the solution plan (措施、實施步驟、責任人和時間節點) of a problem being analysed or solved;
    on the problem's timeline, and its owner told."""
    check_may_plan(problem, user)
    data = dict(data)
    _unknown(data, ACTION_FIELDS)
    if "measure" not in data:
        raise InvalidInput({"measure": [_("This field is required.")]})
    _check_action_values(data)
    with transaction.atomic():
        locked = Problem.objects.select_for_update().get(pk=problem.pk)
        if locked.state != problem.state:
            raise InvalidState(_("The problem moved on meanwhile. Reload and try again."))
        action = ActionItem(problem=locked, **{k: (v.strip() if isinstance(v, str) else v) for k, v in data.items()})
        action.full_clean(exclude=["problem", "state"])
        action.save()
        _record_action(locked, user, "", _action_text(action))
        _notify_action_owner(action, user)
    return action


def action_update(action: ActionItem, *, user: Any, changes: dict[str, Any]) -> ActionItem:
    """Edit an action not finished yet (measure, steps, owner, due date); the old and new on the problem's
    timeline, a new owner told."""
    problem = action.problem
    check_may_plan(problem, user)
    changes = dict(changes)
    _unknown(changes, ACTION_FIELDS)
    _check_action_values(changes)
    with transaction.atomic():
        locked = ActionItem.objects.select_for_update(of=("self",)).select_related("problem", "owner").get(pk=action.pk)
        if locked.state not in (ActionState.OPEN, ActionState.IN_PROGRESS):
            raise ReadOnlyRecord(_("A finished action is not edited."))
        values = {field: value.strip() if isinstance(value, str) else value for field, value in changes.items()}
        if all(getattr(locked, field) == value for field, value in values.items()):
            return locked
        before, owner = _action_text(locked), locked.owner_id
        for field, value in values.items():
            setattr(locked, field, value)
        locked.full_clean(exclude=["problem", "state"])
        locked.save()
        _record_action(problem, user, before, _action_text(locked))
        if locked.owner_id != owner:
            _notify_action_owner(locked, user)
    return locked


def action_transition(action: ActionItem, name: str, *, user: Any, comment: str = "",
                      data: dict[str, Any] | None = None) -> ActionItem:
    """Start, complete or drop an action through the kernel's transition service; the step is on the problem's
    timeline too."""
    if is_read_only_user(user):
        raise TransitionForbidden(_("Auditors have read-only access."))
    before = _action_text(action)

    def record(locked: ActionItem, log: Any) -> None:
        _record_action(locked.problem, user, before, _action_text(locked))

    return perform_transition(action, name, user=user, comment=comment, data=data, then=record)


# --- raising a change ------------------------------------------------------------------------------------


def change_draft(problem: Problem, *, user: Any) -> dict[str, Any]:
    """What a change raised from the problem starts with: its title, content and purpose from the problem and its
    root cause, the service and CI, and the linked incidents the user may see."""
    purpose = _("Remove the root cause of problem %(number)s.") % {"number": problem.number}
    if problem.root_cause.strip():
        purpose += "\n" + problem.root_cause.strip()
    return {
        "title": problem.title[:200],
        "description": problem.description,
        "purpose": purpose,
        "impact_scope": problem.scope,
        "services": [problem.service] if problem.service_id else [],
        "configuration_items": [problem.configuration_item] if problem.configuration_item_id else [],
        "related_incidents": list(Incident.objects.visible_to(user).filter(problems=problem)),
    }


def problem_raise_change(problem: Problem, *, user: Any) -> Change:
    """Raise a change from a problem being analysed or solved: a draft change request filled from the problem,
    linked both ways (the problem's changes; the change's page shows the problem), on the problem's timeline."""
    _check_open(problem)
    if problem.state not in CHANGE_STATES:
        raise InvalidState(_("A change is raised once the problem is analysed or solved."))
    if not is_owner_or_manager(problem, user) or not may_request(user):
        raise TransitionForbidden(_("The problem's owner, a problem manager or a supervisor raises its changes."))
    with transaction.atomic():
        change = change_create(requester=user, data=change_draft(problem, user=user))
        existing = list(problem.changes.all())
        ticket_update(problem, user=user, changes={"changes": [*existing, change]}, editable={"changes"})
    return change
