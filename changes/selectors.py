"""Read queries of change management, with visibility applied, shared by pages and API: the queues, one
change with what its page shows, the CAB agenda and the change calendar."""

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from django.db.models import Exists, OuterRef, Prefetch, Q, QuerySet

from changes.choices import CALENDAR_STATES, OPEN_STATES, ApprovalMode, State
from changes.models import Change, ChangeVote
from changes.rules import calendar_freezes
from incidents.models import Incident
from incidents.selectors import incident_search  # noqa: F401  (the request form's incident search)
from opscenter.core import roles
from opscenter.core.models import ConfigurationItem
from opscenter.core.roles import has_role

# What a list row shows: the requester and implementer joined, services in one more query.
LIST_RELATED = ("created_by", "implementer")


def change_list(*, user: Any) -> QuerySet[Change]:
    """Changes the user may see, with what a list row shows."""
    return Change.objects.visible_to(user).select_related(*LIST_RELATED).prefetch_related("services")


def change_get(*, user: Any, pk: int) -> Change:
    """One change the user may see (Change.DoesNotExist otherwise → 404), with what its page reads: the related
    incidents among those the user may see."""
    return (Change.objects.visible_to(user)
            .select_related("created_by", "implementer", "template", "assessed_by")
            .prefetch_related("services", "configuration_items", "cab_members",
                              Prefetch("related_incidents", queryset=incidents_visible_to(user).order_by("pk")))
            .get(pk=pk))


def incidents_visible_to(user: Any) -> QuerySet[Incident]:
    """The incidents this user may see, and so link a change to."""
    return Incident.objects.visible_to(user)



def incident_changes(*, user: Any, incident: Incident) -> list[Change]:
    """The changes linked to an incident that the user may see, newest first (the incident page's side)."""
    return list(Change.objects.visible_to(user).filter(related_incidents=incident)
                .only("pk", "number", "title", "state", "change_type").order_by("-created_at", "-pk"))


def _voted_this_round(user: Any) -> Exists:
    return Exists(ChangeVote.objects.filter(change=OuterRef("pk"), round=OuterRef("approval_round"),
                                            voter_id=user.pk))


def awaiting_my_decision(qs: QuerySet[Change], user: Any) -> QuerySet[Change]:
    """Changes awaiting this user's approval or joint-review vote in the current round (never those they
    requested, implement or assessed: segregation of duties)."""
    qs = (qs.filter(state=State.AWAITING_APPROVAL).exclude(created_by=user).exclude(implementer=user)
          .exclude(assessed_by=user))
    mine = Q(approval_mode=ApprovalMode.JOINT, cab_members=user)
    if has_role(user, roles.CHANGE_APPROVER):
        mine |= ~Q(approval_mode=ApprovalMode.JOINT)
    return qs.filter(mine).exclude(_voted_this_round(user)).distinct()


# What a supervisor takes up next: requests to assess, reports to review and close.
SUPERVISOR_STATES = (State.SUBMITTED, State.ASSESSING, State.COMPLETED, State.ROLLED_BACK)


def waiting_for(qs: QuerySet[Change], user: Any) -> QuerySet[Change]:
    """What waits for this user's decision: their approvals and votes and, for a supervisor, the requests to
    assess and the reports to close (not those they requested)."""
    mine = Q(pk__in=awaiting_my_decision(Change.objects.all(), user).values("pk"))
    if has_role(user, roles.SUPERVISOR):
        mine |= Q(state__in=SUPERVISOR_STATES) & ~Q(created_by=user)
    return qs.filter(mine)


QUEUE_NAMES = ("requested", "implementing", "approval", "open", "all")


def change_queue(*, user: Any, queue: str) -> QuerySet[Change]:
    """The named queue: requested (mine), implementing (mine to carry out), approval (awaiting my approval
    or vote), open, all."""
    qs = change_list(user=user)
    if queue == "requested":
        return qs.filter(created_by=user)
    if queue == "implementing":
        return qs.filter(implementer=user, state__in=OPEN_STATES)
    if queue == "approval":
        return awaiting_my_decision(qs, user)
    if queue == "open":
        return qs.filter(state__in=OPEN_STATES)
    return qs


def _current_votes(change: Change) -> list[ChangeVote]:
    return [v for v in change.votes.all() if v.round == change.approval_round]


@dataclass
class AgendaItem:
    """A change awaiting joint review: its named members, the votes of this round and who still votes."""

    change: Change
    votes: list[ChangeVote]
    members: list[Any]
    pending: list[Any] = field(default_factory=list)
    viewer_must_vote: bool = False


def cab_agenda(*, user: Any) -> list[AgendaItem]:
    """Changes awaiting joint review (聯合評審), soonest window first, with the votes so far (4 queries)."""
    qs = (change_list(user=user).filter(state=State.AWAITING_APPROVAL, approval_mode=ApprovalMode.JOINT)
          .prefetch_related("cab_members", Prefetch("votes", queryset=ChangeVote.objects.select_related("voter")))
          .order_by("planned_start", "pk"))
    items = []
    for change in qs:
        votes = _current_votes(change)
        voted = {v.voter_id for v in votes}
        members = sorted(change.cab_members.all(), key=str)
        pending = [m for m in members if m.pk not in voted]
        items.append(AgendaItem(change, votes, members, pending,
                                viewer_must_vote=any(m.pk == user.pk for m in pending)))
    return items


def approval_rounds(change: Change) -> list[dict[str, Any]]:
    """Every vote of the change by round, the current round first."""
    rounds: dict[int, list[ChangeVote]] = {}
    for vote in change.votes.select_related("voter").order_by("round", "created_at", "pk"):
        rounds.setdefault(vote.round, []).append(vote)
    rounds.setdefault(change.approval_round, [])
    return [{"round": n, "votes": rounds[n], "current": n == change.approval_round}
            for n in sorted(rounds, reverse=True)]


# --- The change calendar --------------------------------------------------------------------------------


@dataclass
class CalendarChange:
    change: Change
    conflicts: list[tuple[Change, list[str]]] = field(default_factory=list)


def _conflict_reasons(a: Change, b: Change, ci_services: dict[int, set[int]]) -> list[str]:
    """Why two overlapping changes conflict, by the rules of changes.rules.find_conflicts, on prefetched rows."""
    a_services, b_services = {s.pk for s in a.services.all()}, {s.pk for s in b.services.all()}
    a_cis, b_cis = {c.pk for c in a.configuration_items.all()}, {c.pk for c in b.configuration_items.all()}
    a_ci_services = set().union(*(ci_services.get(c, set()) for c in a_cis))
    b_ci_services = set().union(*(ci_services.get(c, set()) for c in b_cis))
    reasons = []
    if a_services & b_services:
        reasons.append("same_service")
    if a_cis & b_cis:
        reasons.append("same_ci")
    if (a_services & b_ci_services) or ((a_ci_services - a_services) & (b_services | b_ci_services)):
        reasons.append("ci_of_same_service")
    if a.implementer_id and a.implementer_id == b.implementer_id:
        reasons.append("same_implementer")
    return reasons


def calendar_changes(*, user: Any, start: datetime, end: datetime,
                     service_id: int | None = None) -> list[CalendarChange]:
    """Approved, scheduled and in-progress changes whose window overlaps [start, end), each with the other
    changes it conflicts with (a constant number of queries)."""
    qs = (change_list(user=user)
          .filter(state__in=CALENDAR_STATES, planned_start__lt=end, planned_end__gt=start)
          .prefetch_related("configuration_items").order_by("planned_start", "pk"))
    if service_id:
        qs = qs.filter(Q(services=service_id) | Q(configuration_items__services=service_id)).distinct()
    rows = [CalendarChange(c) for c in qs]
    ci_ids = {ci.pk for row in rows for ci in row.change.configuration_items.all()}
    ci_services: dict[int, set[int]] = {}
    for ci_id, service in ConfigurationItem.services.through.objects.filter(
            configurationitem_id__in=ci_ids).values_list("configurationitem_id", "service_id"):
        ci_services.setdefault(ci_id, set()).add(service)
    for i, row in enumerate(rows):
        for other in rows[i + 1:]:
            a, b = row.change, other.change
            if not (a.planned_start < b.planned_end and b.planned_start < a.planned_end):
                continue
            reasons = _conflict_reasons(a, b, ci_services)
            if reasons:
                row.conflicts.append((b, reasons))
                other.conflicts.append((a, _conflict_reasons(b, a, ci_services)))
    return rows


def calendar_freeze_list(*, start: datetime, end: datetime, service_id: int | None = None) -> list:
    return list(calendar_freezes(start, end, service_id))


def questionnaire_answers(change: Change) -> list[tuple[str, str, int]]:
    """The questionnaire as the requester answered it: (question, answer, weight), in the questionnaire's order."""
    from changes.models import RiskOption

    chosen = {str(k): v for k, v in (change.risk_answers or {}).items()}
    options = RiskOption.objects.filter(pk__in=[v for v in chosen.values() if str(v).isdigit()]).select_related(
        "question").order_by("question__ordering", "question__pk")
    return [(str(o.question), o.label_zh_hant if _zh() and o.label_zh_hant else o.label, o.weight)
            for o in options if chosen.get(str(o.question_id)) in (o.pk, str(o.pk))]


def _zh() -> bool:
    from django.utils.translation import get_language

    return (get_language() or "").startswith("zh")
