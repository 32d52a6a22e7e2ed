"""Recurrence, read from incidents with set-based queries: recurring incidents proposed as problem candidates (the
policy's threshold within its window, on one service or configuration item and category), and a recurrence during
a verified problem's observation window, which sends the problem back to solving.

Detection is one GROUP BY … HAVING per key (service and category; configuration item and category) over the
incidents recorded within the window that are linked to no problem and were not cancelled; a second query reads
the incidents of the groups found. A candidate is named by its `fingerprint` (its key and its incidents, hashed),
unique: a run that comes twice proposes nothing twice, and a set of incidents once dismissed is never proposed
again — nor is any group whose every incident was in a dismissed candidate of its key (the window sliding past
one of them would otherwise make a "new" set of the same incidents). A group with a new incident is proposed
again; a candidate still proposed for the same key takes the new incidents instead of a second candidate.
"""

import hashlib
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from django.db import IntegrityError, connection, transaction
from django.db.models import Count, Exists, OuterRef, Q, QuerySet, Subquery
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _

from incidents.choices import State as IncidentState
from incidents.models import Incident
from opscenter.core.exceptions import OpsCenterError
from opscenter.core.outbox import notify
from opscenter.core.services import perform_transition
from problems.choices import CandidateState, State
from problems.models import Candidate, Problem, ProblemIncident, ProblemPolicy
from problems.notifications import RECURRED, problem_params

# The two keys incidents recur on: a service and a category, a configuration item and a category.
KEYS = ("service", "configuration_item")


@dataclass
class Group:
    """Incidents that recur on one key."""

    key: str
    key_id: int
    category_id: int
    incident_ids: list[int] = field(default_factory=list)

    @property
    def fingerprint(self) -> str:
        return fingerprint(self.key, self.key_id, self.category_id, self.incident_ids)


def fingerprint(key: str, key_id: int, category_id: int, incident_ids: Iterable[int]) -> str:
    """What names a candidate: its key and its incidents (in any order), hashed."""
    text = f"{key}:{key_id}|category:{category_id}|" + ",".join(str(pk) for pk in sorted(set(incident_ids)))
    return hashlib.sha256(text.encode()).hexdigest()


def countable_incidents(since: datetime) -> QuerySet[Incident]:
    """Incidents that count towards a recurrence: recorded since `since`, categorised, not cancelled (duplicates,
    false alarms), linked to no problem."""
    return (Incident.objects.filter(created_at__gte=since, category__isnull=False)
            .exclude(state=IncidentState.CANCELLED)
            .exclude(Exists(ProblemIncident.objects.filter(incident=OuterRef("pk")))))


def _dismissed(key: str) -> QuerySet:
    """The incidents of dismissed candidates of this key (an incident's service or CI and category make its
    group, so a dismissed candidate that held it was of its group): read once, as a hashed set."""
    through = Candidate.incidents.through
    return through.objects.filter(candidate__state=CandidateState.DISMISSED,
                                  **{f"candidate__{key}__isnull": False}).values("incident_id")


def recurring_groups(*, now: datetime | None = None, policy: ProblemPolicy | None = None) -> list[Group]:
    """The groups of countable incidents at or over the policy's threshold within its window, by service and
    category, then by configuration item and category (a group of the second kind whose incidents all belong to
    a group of the first is left out: the same incidents are proposed once)."""
    now = now or timezone.now()
    policy = policy or ProblemPolicy.current()
    since = now - timedelta(days=policy.recurrence_window_days)
    groups: list[Group] = []
    for key in KEYS:
        column = f"{key}_id"
        counted = (countable_incidents(since).filter(**{f"{key}__isnull": False})
                   .values(column, "category_id")
                   .annotate(n=Count("pk"), fresh=Count("pk", filter=~Q(pk__in=_dismissed(key))))
                   .filter(n__gte=policy.recurrence_threshold, fresh__gte=1)
                   .order_by())
        found = {(row[column], row["category_id"]): Group(key, row[column], row["category_id"]) for row in counted}
        if not found:
            continue
        rows = (countable_incidents(since)
                .filter(**{f"{column}__in": {k for k, _c in found}, "category_id__in": {c for _k, c in found}})
                .values_list(column, "category_id", "pk").order_by("pk"))
        for key_id, category_id, pk in rows:
            group = found.get((key_id, category_id))
            if group is not None:
                group.incident_ids.append(pk)
        groups.extend(found.values())
    by_service = [set(g.incident_ids) for g in groups if g.key == "service"]
    return [g for g in groups if g.key == "service" or not any(set(g.incident_ids) <= s for s in by_service)]


def candidates_propose(*, now: datetime | None = None) -> list[Candidate]:
    """Propose a candidate for each recurring group not proposed before (by fingerprint); a candidate still
    proposed for the same key and category takes the group's new incidents instead. Returns the candidates made or
    grown. Idempotent: a second run finds every fingerprint taken; a run beside this one that proposes the same
    first makes this one propose nothing (the unique fingerprint rolls it back)."""
    now = now or timezone.now()
    try:
        with transaction.atomic():
            batch_session()
            return _propose(recurring_groups(now=now), now)
    except IntegrityError:
        return []


def batch_session() -> None:
    """A set-based batch over many rows on PostgreSQL: no JIT compilation for this transaction (its estimate of a
    costly plan makes the server spend longer compiling the plan than running it)."""
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("SET LOCAL jit = off")


def _key_of(candidate: Candidate) -> tuple[str, int, int]:
    if candidate.service_id:
        return "service", candidate.service_id, candidate.category_id
    return "configuration_item", candidate.configuration_item_id, candidate.category_id


def _propose(groups: list[Group], now: datetime) -> list[Candidate]:
    """The groups not proposed yet as candidates, in a few statements whatever their number: the candidates still
    proposed for their keys (locked) grown by the new incidents, new candidates for the others."""
    if not groups:
        return []
    taken = set(Candidate.objects.filter(fingerprint__in=[g.fingerprint for g in groups])
                .values_list("fingerprint", flat=True))
    fresh = [g for g in groups if g.fingerprint not in taken]
    if not fresh:
        return []
    same_key = Q(pk__in=[])
    for g in fresh:
        other = "configuration_item" if g.key == "service" else "service"
        same_key |= Q(**{f"{g.key}_id": g.key_id, "category_id": g.category_id, f"{other}__isnull": True})
    opened = {_key_of(c): c for c in Candidate.objects.select_for_update()
              .filter(same_key, state=CandidateState.PROPOSED).order_by("pk")}
    through = Candidate.incidents.through
    members: dict[int, set[int]] = defaultdict(set)
    for candidate_id, incident_id in through.objects.filter(candidate__in=list(opened.values())).values_list(
            "candidate_id", "incident_id"):
        members[candidate_id].add(incident_id)
    made = Candidate.objects.bulk_create([
        Candidate(fingerprint=g.fingerprint, proposed_at=now, category_id=g.category_id, **{f"{g.key}_id": g.key_id})
        for g in fresh if (g.key, g.key_id, g.category_id) not in opened])
    by_key = {**opened, **{_key_of(c): c for c in made}}
    still_proposed = {c.pk for c in opened.values()}
    grown, rows = [], []
    for g in fresh:
        candidate = by_key[(g.key, g.key_id, g.category_id)]
        new = sorted(set(g.incident_ids) - members[candidate.pk])
        if not new:
            continue
        if candidate.pk in still_proposed:  # it takes the new incidents
            candidate.fingerprint = fingerprint(g.key, g.key_id, g.category_id, members[candidate.pk] | set(new))
            grown.append(candidate)
        rows += [through(candidate_id=candidate.pk, incident_id=pk) for pk in new]
    Candidate.objects.bulk_update(grown, ["fingerprint"])
    through.objects.bulk_create(rows, batch_size=5000)
    return [*made, *grown]


# --- The observation window ------------------------------------------------------------------------------


def _recurring_in_window() -> Q:
    """An incident recorded during the problem's observation window (up to now), not cancelled."""
    return Q(created_at__gte=OuterRef("observation_started_at"), created_at__lt=OuterRef("observation_ends_at"),
             created_at__lte=timezone.now()) & ~Q(state=IncidentState.CANCELLED)


def recurrences(problems: QuerySet[Problem] | None = None) -> QuerySet[Problem]:
    """Verifying problems that saw a recurrence during their observation window, each annotated with the first
    incident that recurred (`recurred_id`): one linked to the problem, or one on its service or configuration item
    with its category (the problem's pattern)."""
    window = _recurring_in_window()
    linked = Incident.objects.filter(window, problem_links__problem=OuterRef("pk"))
    pattern = Incident.objects.filter(window, category=OuterRef("category")).filter(
        Q(service__isnull=False, service=OuterRef("service"))
        | Q(configuration_item__isnull=False, configuration_item=OuterRef("configuration_item")))
    first_linked = Subquery(linked.order_by("created_at", "pk").values("pk")[:1])
    first_pattern = Subquery(pattern.order_by("created_at", "pk").values("pk")[:1])
    qs = (problems if problems is not None else Problem.objects.all()).filter(
        state=State.VERIFYING, observation_started_at__isnull=False)
    qs = qs.annotate(linked_id=first_linked, pattern_id=first_pattern).filter(
        Q(linked_id__isnull=False) | (Q(category__isnull=False) & Q(pattern_id__isnull=False)))
    return qs


def problems_reopen_on_recurrence(*, problem_ids: Iterable[int] | None = None) -> list[int]:
    """Send back to solving (`reopen`, by the system) every verifying problem that saw a recurrence during its
    observation window, the incident named in the reason on its timeline. Idempotent: a problem reopened is no
    longer verifying. Returns the ids of the problems reopened."""
    qs = Problem.objects.all() if problem_ids is None else Problem.objects.filter(pk__in=list(problem_ids))
    found = list(recurrences(qs).values_list("pk", "linked_id", "pattern_id"))
    if not found:
        return []
    numbers = dict(Incident.objects.filter(pk__in={i for _p, *ids in found for i in ids if i})
                   .values_list("pk", "number"))
    reopened = []
    for pk, linked_id, pattern_id in found:
        incident = numbers.get(linked_id or pattern_id, "")
        reason = (_("Recurrence during the observation window: %(number)s was linked to this problem.")
                  if linked_id else
                  _("Recurrence during the observation window: %(number)s on the same service or configuration "
                    "item and category.")) % {"number": incident}
        try:
            perform_transition(Problem(pk=pk, state=State.VERIFYING), "reopen", user=None, comment=reason,
                               system=True, then=_tell_owner(reason))
        except OpsCenterError:
            continue  # moved on meanwhile (reopened, cancelled): nothing left to do
        reopened.append(pk)
    return reopened


def _tell_owner(reason: str) -> Any:
    def tell(problem: Problem, log: Any) -> None:
        if problem.owner_id:
            notify(kind=RECURRED, recipients=[problem.owner], params=problem_params(problem, reason=reason),
                   link=reverse("problems:problem-detail", args=[problem.pk]))
    return tell


def problems_watching(incident: Incident) -> list[int]:
    """The verifying problems an incident may be a recurrence of (linked, or of their pattern): what the receivers
    hand to the task."""
    pattern = Q(problem_links__incident=incident)
    if incident.category_id and (incident.service_id or incident.configuration_item_id):
        same = Q()
        if incident.service_id:
            same |= Q(service_id=incident.service_id)
        if incident.configuration_item_id:
            same |= Q(configuration_item_id=incident.configuration_item_id)
        pattern |= Q(category_id=incident.category_id) & same
    return list(Problem.objects.filter(pattern, state=State.VERIFYING).values_list("pk", flat=True).distinct())
