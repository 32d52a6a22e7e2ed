"""Problem candidates (recurring incidents proposed by problems.recurrence): who reads them, the queries the pages
and the API share, and the two decisions — accept (a problem identified from the candidate's incidents, through
problem_create) and dismiss (with the reason; the same incidents are never proposed again)."""

from collections.abc import Iterable
from typing import Any

from django.db.models import Count, Exists, F, OuterRef, Prefetch, QuerySet, Subquery, Window
from django.db.models.functions import RowNumber
from django.utils.translation import gettext as _

from incidents.models import Incident
from opscenter.core import roles
from opscenter.core.exceptions import ConditionFailed, InvalidInput
from opscenter.core.roles import has_role
from opscenter.core.services import perform_transition
from problems.choices import CandidateState, Source
from problems.models import Candidate, Problem, ProblemIncident
from problems.services import problem_create

# Those who work problems and those who audit them read the candidates; problem managers and supervisors decide.
READERS = (roles.PROBLEM_MANAGER, *roles.ENGINEERS, roles.SUPERVISOR, roles.AUDITOR)
RELATED = ("service", "configuration_item", "category", "problem", "decided_by")
INCIDENT_FIELDS = ("pk", "number", "title", "state", "created_at", "service_id", "category_id")


def may_read(user: Any) -> bool:
    return bool(user and user.is_authenticated and user.is_active and has_role(user, *READERS))


# A list row names the first incidents of its candidate and counts them all (a candidate on a busy service holds
# hundreds); its page and the API's detail show every one.
ROW_INCIDENTS = 5


def candidate_list(*, user: Any, state: str = "") -> QuerySet[Candidate]:
    """The candidates the user may read (none for others; and only those with an incident the user may see), newest
    first, each with how many incidents it holds (`incident_count`); `first_incidents` names some of them for a
    page of rows."""
    if not may_read(user):
        return Candidate.objects.none()
    links = Candidate.incidents.through.objects.filter(candidate=OuterRef("pk")).order_by()
    # A candidate none of whose incidents the user may see (security incidents) is not shown to them either.
    seen = Exists(links.filter(incident__in=Incident.objects.visible_to(user)))
    qs = (Candidate.objects.select_related(*RELATED).filter(seen)
          .annotate(incident_count=Subquery(links.values("candidate").annotate(n=Count("pk")).values("n")[:1])))
    if state:
        qs = qs.filter(state=state)
    return qs.order_by("-proposed_at", "-pk")


def first_incidents(candidates: Iterable[Candidate], *, user: Any, count: int = ROW_INCIDENTS) -> None:
    """Give each candidate of a page its first `count` incidents (the oldest recorded) that the user may see, as
    `shown_incidents`, in two queries whatever the rows: the links ranked per candidate, then the incidents."""
    candidates = list(candidates)
    ranked = (Candidate.incidents.through.objects.filter(candidate__in=[c.pk for c in candidates])
              .annotate(rank=Window(RowNumber(), partition_by=[F("candidate_id")], order_by=F("incident_id").asc()))
              .filter(rank__lte=count).values_list("candidate_id", "incident_id"))
    firsts: dict[int, list[int]] = {}
    for candidate_id, incident_id in ranked:
        firsts.setdefault(candidate_id, []).append(incident_id)
    ids = [pk for pks in firsts.values() for pk in pks]
    visible = Incident.objects.visible_to(user).filter(pk__in=ids).only(*INCIDENT_FIELDS) if ids else []
    found = {i.pk: i for i in visible}
    for candidate in candidates:
        candidate.shown_incidents = [found[pk] for pk in sorted(firsts.get(candidate.pk, [])) if pk in found]


def with_all_incidents(candidates: QuerySet[Candidate], *, user: Any) -> QuerySet[Candidate]:
    """The candidates with every incident of theirs the user may see (`shown_incidents`), oldest first."""
    shown = Incident.objects.visible_to(user).only(*INCIDENT_FIELDS).order_by("created_at", "pk")
    return candidates.prefetch_related(Prefetch("incidents", queryset=shown, to_attr="shown_incidents"))


def candidate_get(*, user: Any, pk: int) -> Candidate:
    """One candidate the user may read (Candidate.DoesNotExist otherwise → 404), with every incident of it the user
    may see."""
    return with_all_incidents(candidate_list(user=user), user=user).get(pk=pk)


def default_title(candidate: Candidate) -> str:
    """The title a problem accepted from a candidate starts with: what recurs, and where."""
    where = candidate.service or candidate.configuration_item
    return (_("Recurring incidents: %(where)s · %(category)s") % {
        "where": where, "category": candidate.category})[:200]


def default_description(candidate: Candidate, incidents: list[Incident]) -> str:
    lines = [_("%(count)s incidents recurred within the policy's window:") % {"count": len(incidents)}]
    lines += [f"- {i.number} {i.title}" for i in incidents]
    return "\n".join(lines)


def candidate_accept(candidate: Candidate, *, user: Any, title: str = "", description: str = "",
                     owner: Any = None) -> Problem:
    """Accept a proposed candidate (a problem manager or a supervisor): a problem identified from its incidents
    (the ones the user may see), with the candidate's service or CI and category, through problem_create; the
    candidate records its problem. Refused (409) when every incident was linked to a problem meanwhile."""
    incidents = list(Incident.objects.visible_to(user).filter(pk__in=candidate.incidents.values("pk"))
                     .only("pk", "number", "title").order_by("created_at", "pk"))
    made: list[Problem] = []

    def identify(locked: Candidate, log: Any) -> None:
        if not incidents:
            raise InvalidInput({"incidents": [_("None of this candidate's incidents is one you may see.")]})
        linked = set(ProblemIncident.objects.filter(incident__in=incidents).values_list("incident_id", flat=True))
        if all(i.pk in linked for i in incidents):
            raise ConditionFailed(_("Every incident of this candidate is linked to a problem already."))
        data = {"title": (title or "").strip() or default_title(locked),
                "description": (description or "").strip() or default_description(locked, incidents),
                "source": Source.INCIDENTS, "service": locked.service, "configuration_item": locked.configuration_item,
                "category": locked.category}
        if owner is not None:
            data["owner"] = owner
        problem = problem_create(user=user, data=data, incidents=incidents)
        Candidate.objects.filter(pk=locked.pk).update(problem=problem)
        locked.problem = problem
        made.append(problem)

    perform_transition(candidate, "accept", user=user, then=identify)
    return made[0]


def candidate_dismiss(candidate: Candidate, *, user: Any, reason: str) -> Candidate:
    """Dismiss a proposed candidate (a problem manager or a supervisor) with the reason: its incidents are never
    proposed again as the same set."""
    return perform_transition(candidate, "dismiss", user=user, comment=reason)


def candidate_transition(candidate: Candidate, name: str, *, user: Any, comment: str = "",
                         data: dict[str, Any] | None = None) -> Candidate:
    """Accept or dismiss, as the admin's buttons and the API's transition endpoint ask."""
    data = dict(data or {})
    if name == "accept":
        candidate_accept(candidate, user=user, **data)
        return Candidate.objects.get(pk=candidate.pk)
    if name == "dismiss":
        return candidate_dismiss(candidate, user=user, reason=comment)
    return perform_transition(candidate, name, user=user, comment=comment, data=data)


def proposed_count(*, user: Any) -> int:
    """How many candidates wait for a decision (the tab's badge)."""
    if not may_read(user):
        return 0
    return Candidate.objects.filter(state=CandidateState.PROPOSED).count()
