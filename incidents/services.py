"""Operations on incidents: report, transitions (through the kernel's one service), edits, links, reviews."""

from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any

from django.conf import settings
from django.contrib.contenttypes.models import ContentType
from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import QuerySet
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _

from incidents.choices import OPEN_STATES, URGENT_PRIORITIES, WORKING_STATES, Channel, State
from incidents.models import (
    Incident,
    MajorIncidentReview,
    PriorityRule,
    UrgentPaging,
    assign_due_after,
    may_edit,
    readers,
)
from incidents.notifications import ASSIGNMENT_OVERDUE, URGENT, URGENT_ESCALATED, incident_params
from opscenter.core import roles
from opscenter.core.exceptions import InvalidInput, ReadOnlyRecord, TransitionForbidden
from opscenter.core.extensions import paging_first_wave
from opscenter.core.models import FieldChange, User
from opscenter.core.notification_kinds import timestamp
from opscenter.core.outbox import notify
from opscenter.core.roles import has_role
from opscenter.core.selectors import configuration_items_visible_to, role_members
from opscenter.core.services import perform_transition, ticket_create, ticket_update

# Fields that may still be edited, by state (the rest change only through transitions).
EDITABLE = {
    State.REPORTED: {"title", "description", "occurred_at", "impact_scope", "service", "configuration_item",
                     "caller_name", "caller_contact", "department"},
    **{state: {"title", "impact_scope", "service", "configuration_item", "caller_name", "caller_contact"}
       for state in (*WORKING_STATES, State.ON_HOLD)},
    State.RESOLVED: {"resolution"},
}


def incident_report(*, recorder: Any, data: dict[str, Any]) -> Incident:
    """Record a fault: reported by phone/email/IM for a caller by the duty officer, or on the web by
    a department user for themselves. Both the caller and the recorder are kept."""
    data = dict(data)
    caller = data.get("caller")
    if not has_role(recorder, *roles.IT_STAFF):
        # A department user reports for themselves, on the web, for their own department.
        data["caller"] = caller = recorder
        data["channel"] = Channel.WEB
        data["department"] = recorder.department
    if caller is not None and not data.get("department"):
        data["department"] = caller.department
    if caller is not None:
        data.setdefault("caller_name", str(caller))
    if not data.get("caller_name") and caller is None:
        raise InvalidInput({"caller_name": [_("Name the caller, or choose them from the users.")]})
    _refuse_invisible_configuration_item(recorder, data.get("configuration_item"))
    incident = Incident(created_by=recorder, **data)
    if incident.impact is not None or incident.urgency is not None:
        _prioritise_at_intake(incident)
    return ticket_create(incident, user=recorder, transition="report", log_data={"channel": incident.channel})


def _refuse_invisible_configuration_item(user: Any, item: Any) -> None:
    """A ticket names only a CI its author may read (as on the CI endpoint): a department user names none. Refused
    as if it did not exist, so that the answer tells nothing about other departments' equipment."""
    if item is not None and not configuration_items_visible_to(user).filter(pk=item.pk).exists():
        raise InvalidInput({"configuration_item": [_("There is no such configuration item.")]})


def _prioritise_at_intake(incident: Incident) -> None:
    """Impact and urgency given with the report: the priority from the matrix in force (as classification takes it)
    and, for a priority with an assignment rule, the time to assign it by from now. Classifying it later sets the
    category and may change both."""
    if incident.impact is None or incident.urgency is None:
        missing = "urgency" if incident.urgency is None else "impact"
        raise InvalidInput({missing: [_("Give both impact and urgency, or neither.")]})
    try:
        incident.priority = PriorityRule.priority_for(incident.impact, incident.urgency)
    except ValidationError as exc:
        raise InvalidInput(exc.message_dict) from exc
    incident.assign_due_at = assign_due_after(incident.priority, incident.created_at)


def incident_transition(incident: Incident, name: str, *, user: Any, comment: str = "",
                        data: dict[str, Any] | None = None) -> Incident:
    """Perform one incident transition through the kernel's transition service.

    Adds what the incident policy asks around it: when a parent is resolved with `resolve_children`,
    the same resolution for its open children.
    """
    data = dict(data or {})
    resolve_children = bool(data.pop("resolve_children", False))
    with transaction.atomic():
        then = _priority_change(incident, user=user) if name == "reclassify" else None
        incident = perform_transition(incident, name, user=user, comment=comment, data=data, then=then)
        if name == "confirm_recovery" and incident.state == State.RESOLVED and resolve_children:
            for child in incident.children.filter(state__in=[s for s in OPEN_STATES if s != State.ON_HOLD]):
                perform_transition(child, "resolve_with_parent", user=user,
                                   comment=_("Resolved with parent %(number)s") % {"number": incident.number},
                                   data={"resolution": incident.resolution}, allow_internal=True)
    return incident


def _priority_change(incident: Incident, *, user: Any) -> Callable[[Incident, Any], None]:
    """For a reclassification: the priority it replaces, read under the row's lock (held until the transition
    commits), and the hook that puts the change on the timeline as a field change ("P3" → "P1", the same in every
    reader's language) and leaves the replaced priority on the incident as `previous_priority` for the receivers
    (paging on a raise)."""
    previous = Incident.objects.select_for_update().only("priority").get(pk=incident.pk)

    def record(reclassified: Incident, log: Any) -> None:
        reclassified.previous_priority = previous.priority
        if reclassified.priority != previous.priority:
            FieldChange.objects.create(
                content_type=ContentType.objects.get_for_model(Incident), object_id=reclassified.pk,
                field="priority", old_value=previous.priority, new_value=reclassified.priority, actor=user,
                created_at=log.created_at)

    return record


def incident_update(incident: Incident, *, user: Any, changes: dict[str, Any]) -> Incident:
    """Edit the fields the current state allows; each change goes on the timeline."""
    if incident.is_read_only:
        raise ReadOnlyRecord()
    if not may_edit(incident, user):
        raise TransitionForbidden(_("You may not edit this incident."))
    if "priority" in changes or "state" in changes:
        raise InvalidInput({k: [_("Set by classification and transitions only.")]
                            for k in ("priority", "state") if k in changes})
    item = changes.get("configuration_item")
    if item is not None and item.pk != incident.configuration_item_id:
        _refuse_invisible_configuration_item(user, item)
    editable = set(EDITABLE.get(incident.state, set()))
    if not has_role(user, *roles.IT_STAFF):
        editable.discard("department")  # a reporter cannot move their report to another department's queue
    return ticket_update(incident, user=user, changes=changes, editable=editable)


def incident_link(incident: Incident, *, user: Any, parent: Incident | None) -> Incident:
    """Make `parent` the parent of this incident (None unlinks); cycles are refused. IT staff only."""
    if incident.is_read_only:
        raise ReadOnlyRecord()
    if not has_role(user, *roles.IT_STAFF):
        raise TransitionForbidden(_("Only IT staff link incidents."))
    node = parent
    while node is not None:
        if node.pk == incident.pk:
            raise InvalidInput({"parent": [_("That would make the incident its own ancestor.")]})
        node = node.parent
    return ticket_update(incident, user=user, changes={"parent": parent}, editable={"parent"})


def incident_record_review(incident: Incident, *, user: Any, data: dict[str, Any]) -> MajorIncidentReview:
    """Record the review meeting of a major incident (required before it can be closed)."""
    if not incident.is_major:
        raise InvalidInput({"incident": [_("Only a major incident has a review meeting.")]})
    if incident.state in (State.CLOSED, State.CANCELLED):
        raise ReadOnlyRecord()
    if not has_role(user, roles.SUPERVISOR):
        from opscenter.core.exceptions import TransitionForbidden

        raise TransitionForbidden(_("Only a supervisor records the review meeting."))
    review = MajorIncidentReview(incident=incident, recorded_by=user, **data)
    try:
        review.full_clean(exclude=["incident", "recorded_by"])
    except ValidationError as exc:
        raise InvalidInput(exc.message_dict) from exc
    review.save()
    return review


# --- The assignment sweep ---------------------------------------------------------------------------

SWEEP_BATCH = 200


def assignment_overdue(now: datetime) -> QuerySet[Incident]:
    """Classified incidents past their assign-by time, still without anyone, not yet announced."""
    return Incident.objects.filter(
        state=State.CLASSIFIED, assign_due_at__lte=now, assignee__isnull=True,
        assign_overdue_notified_at__isnull=True,
    )


def incident_announce_assignment_overdue(*, now: datetime | None = None) -> int:
    """Tell the duty officers and the supervisors, once per incident, which classified incidents are
    past their assign-by time; returns how many incidents were announced.

    Each batch is claimed with a conditional UPDATE (…WHERE assign_overdue_notified_at IS NULL) on rows
    locked in the same transaction that writes the outbox rows, so a sweep that runs twice, late, or
    beside another sweep announces each incident exactly once.
    """
    now = now or timezone.now()
    announced = 0
    while True:
        with transaction.atomic():
            ids = list(assignment_overdue(now).select_for_update(skip_locked=True)
                       .order_by("assign_due_at", "pk").values_list("pk", flat=True)[:SWEEP_BATCH])
            if not ids:
                return announced
            claimed = Incident.objects.filter(pk__in=ids, assign_overdue_notified_at__isnull=True).update(
                assign_overdue_notified_at=now)
            if claimed != len(ids):  # another sweep took some between our read and our write: let it
                transaction.set_rollback(True)
                continue
            recipients = [*role_members(roles.DUTY_OFFICER), *supervisors()]
            for incident in Incident.objects.filter(pk__in=ids).select_related("service").order_by(
                    "assign_due_at", "pk"):
                notify(kind=ASSIGNMENT_OVERDUE, recipients=recipients,
                       params=incident_params(incident, assign_due_at=timestamp(incident.assign_due_at)),
                       link=reverse("incidents:incident-detail", args=[incident.pk]))
            announced += len(ids)


# --- The second wave of urgent pages ---------------------------------------------------------------------


def answered(incident: Incident) -> bool:
    """Someone took the incident up (the assignee started on it), or it is no longer waiting for that: moved on,
    held, resolved or cancelled, or no longer P1/P2."""
    return (incident.first_response_at is not None or incident.state not in (State.CLASSIFIED, State.ASSIGNED)
            or incident.priority not in URGENT_PRIORITIES)


# --- Paging a P1/P2 incident: the record of who was paged first is the escalation sweep's (below) -----------


def supervisors() -> list[User]:
    return role_members(roles.SUPERVISOR)


def responsible_team(incident: Incident):  # noqa: ANN201
    """The assigned team, else the category's default team, else the service's support team."""
    if incident.team_id:
        return incident.team
    if incident.category_id and incident.category.default_team_id:
        return incident.category.default_team
    if incident.service_id and incident.service.support_team_id:
        return incident.service.support_team
    return None


def paged_without_waves(incident: Incident) -> list[User]:
    """Whom a P1/P2 incident pages at once when nobody says who is on duty: the members of the responsible team
    who may see it, and the supervisors."""
    team = responsible_team(incident)
    members = list(readers(incident, team.members.filter(is_active=True))) if team else []
    return [*members, *supervisors()]


def _send_urgent(incident: Incident, recipients: list[Any], actor: Any) -> None:
    notify(kind=URGENT, recipients=recipients, params=incident_params(incident, actor=actor),
           link=reverse("incidents:incident-detail", args=[incident.pk]))


def incident_page_urgent(incident: Incident, *, actor: Any) -> None:
    """Page a P1/P2 incident (classified or raised to P1/P2: incidents.receivers). When an installed app names who
    is on duty for the responsible team (a paging resolver, opscenter.core.extensions), those of them who may see
    it are paged first and recorded (`UrgentPaging`), and the rest only if nobody takes it up within its assign-by
    time (incident_escalate_paging); else everyone at once."""
    team = responsible_team(incident)
    now = timezone.now()
    wave = paging_first_wave(team, now) if team is not None else None
    first = list(readers(incident, User.objects.filter(pk__in=[u.pk for u in wave]))) if wave else []
    if not first:
        UrgentPaging.objects.filter(incident=incident).delete()
        _send_urgent(incident, paged_without_waves(incident), actor)
        return
    minutes = settings.INCIDENT_ASSIGN_WITHIN_MINUTES.get(incident.priority) or 0
    UrgentPaging.objects.update_or_create(incident=incident, defaults={
        "paged_at": now, "first_wave": [user.pk for user in first], "escalate_at": now + timedelta(minutes=minutes),
        "settled_at": None, "escalated": False})
    _send_urgent(incident, first, actor)


def incident_escalate_paging(*, now: datetime | None = None) -> int:
    """Page the rest of the team and the supervisors, once per page, for the P1/P2 incidents whose first wave (the
    people on duty) has not taken them up by their assign-by time; returns how many incidents were escalated.

    Each due row is locked and settled (`settled_at`) in the transaction that writes the outbox rows, so a sweep that
    runs twice, late, or beside another pages nobody twice; an answered incident's row is settled paging nobody."""
    now = now or timezone.now()
    escalated = 0
    while True:
        with transaction.atomic():
            due = list(UrgentPaging.objects.filter(settled_at__isnull=True, escalate_at__lte=now)
                       .select_for_update(skip_locked=True, of=("self",)).select_related("incident__service",
                                                                                           "incident__category")
                       .order_by("escalate_at", "pk")[:SWEEP_BATCH])
            if not due:
                return escalated
            for paging in due:
                incident = paging.incident
                paging.escalated = not answered(incident)
                if paging.escalated:
                    first = set(paging.first_wave)
                    rest = [user for user in paged_without_waves(incident) if user.pk not in first]
                    notify(kind=URGENT_ESCALATED, recipients=rest, params=incident_params(incident),
                           link=reverse("incidents:incident-detail", args=[incident.pk]))
                    escalated += 1
                paging.settled_at = now
            UrgentPaging.objects.bulk_update(due, ["settled_at", "escalated"])
