"""The known-error database (已知錯誤): recording a known error from a problem (from its analysis onward) or on its
own, editing it, publishing and retiring it through the kernel's transition service — publishing notes the
workaround once on every open incident of its problem —, and the reads shared by pages, API, admin and the incident
pages: the list with its search, one known error, and the published ones suggested for an incident being recorded
(same service or CI, or matching words: trigram similarity on PostgreSQL, which matches Chinese too)."""

import hashlib
from dataclasses import dataclass
from typing import Any

from django.contrib.contenttypes.models import ContentType
from django.contrib.postgres.lookups import TrigramSimilar, TrigramWordSimilar
from django.contrib.postgres.search import TrigramDistance, TrigramSimilarity, TrigramWordSimilarity
from django.db import connection
from django.db.models import Case, F, IntegerField, Q, QuerySet, Value, When
from django.utils.translation import gettext as _

from incidents.choices import OPEN_STATES as INCIDENT_OPEN_STATES
from incidents.models import Incident
from opscenter.core.caching import cached_by
from opscenter.core.exceptions import InvalidInput, InvalidState, NotFound, ReadOnlyRecord, TransitionForbidden
from opscenter.core.models import Comment, FieldChange
from opscenter.core.services import perform_transition, ticket_create, ticket_update
from problems.choices import KNOWN_ERROR_STATES, KnownErrorState
from problems.models import KnownError, Problem, ProblemIncident
from problems.services import may_work

FIELDS = frozenset({"title", "symptom", "root_cause", "workaround", "service", "configuration_item", "category"})
CREATE_FIELDS = FIELDS | {"problem"}
# What may be edited, by state: a retired known error is a record.
EDITABLE: dict[str, frozenset[str]] = {KnownErrorState.DRAFT: FIELDS, KnownErrorState.PUBLISHED: FIELDS}
# What approving its problem's report writes.
RESOLVED_FIELDS = frozenset({"permanent_fix", "root_cause"})
LIST_RELATED = ("service", "configuration_item", "category", "problem")
SUGGESTIONS = 5
# What an incident's page shows of a suggested known error (templates/problems/known_error_suggestions.html), and
# what ranks it.
INCIDENT_SUGGESTION_COLUMNS = ("number", "title", "workaround", "state", "problem_id", "service_id",
                               "configuration_item_id", "published_at")
SUGGESTION_TEXT = 200
# The timeline's record of the incidents a publication noted the workaround on.
NOTED_FIELD = "incidents_noted"


# --- who may do what -------------------------------------------------------------------------------------


def may_edit(known_error: KnownError, user: Any) -> bool:
    """Problem managers, engineers and supervisors record and edit known errors until they are retired."""
    return known_error.state in EDITABLE and may_work(user)


def _check_may_work(user: Any) -> None:
    if not may_work(user):
        raise TransitionForbidden(_("Only problem managers, engineers and supervisors record known errors."))


def _unknown(data: dict[str, Any], accepted: frozenset[str]) -> None:
    unknown = sorted(set(data) - accepted)
    if unknown:
        raise InvalidInput({field: [_("This field is not accepted here.")] for field in unknown})


# --- record and edit -------------------------------------------------------------------------------------


def known_error_draft(problem: Problem) -> dict[str, Any]:
    """What a known error recorded from a problem starts with: its title, the incidents' phenomenon as the symptom,
    the root cause found, the service, CI and category."""
    return {"title": problem.title[:200], "symptom": problem.description, "root_cause": problem.root_cause,
            "service": problem.service, "configuration_item": problem.configuration_item,
            "category": problem.category}


def check_problem(problem: Problem) -> None:
    """A known error is recorded from a problem being analysed or later (409 before)."""
    if problem.state not in KNOWN_ERROR_STATES:
        raise InvalidState(_("A known error is recorded from the problem's analysis onward."))


def known_error_create(*, user: Any, data: dict[str, Any]) -> KnownError:
    """Record a known error as a draft: from a problem being analysed or later (what is not given is filled from
    it: title, symptom, root cause, service, CI, category), or on its own (a fault found elsewhere, a vendor's
    bulletin). On the new record's timeline, and on the problem's list of known errors."""
    _check_may_work(user)
    data = {k: (v.strip() if isinstance(v, str) else v) for k, v in data.items()}
    _unknown(data, CREATE_FIELDS)
    problem = data.get("problem")
    if problem is not None:
        check_problem(problem)
        for field, value in known_error_draft(problem).items():
            if data.get(field) in (None, ""):
                data[field] = value
    if not data.get("symptom"):
        raise InvalidInput({"symptom": [_("Describe the symptom: what the user sees.")]})
    known_error = KnownError(created_by=user, **data)
    return ticket_create(known_error, user=user, transition="record",
                         log_data={"problem": problem.number} if problem is not None else {})


def known_error_update(known_error: KnownError, *, user: Any, changes: dict[str, Any]) -> KnownError:
    """Edit a draft or published known error (symptom, root cause, workaround, service, CI, category), each old and
    new value on its timeline; a retired one is a record (409)."""
    if known_error.state not in EDITABLE:
        raise ReadOnlyRecord()
    _check_may_work(user)
    changes = {k: (v.strip() if isinstance(v, str) else v) for k, v in changes.items()}
    for field in ("state", "number", "problem"):
        if field in changes:
            raise InvalidInput({field: [_("This field cannot be changed now.")]})
    _unknown(changes, FIELDS)
    if "symptom" in changes and not changes["symptom"]:
        raise InvalidInput({"symptom": [_("Describe the symptom: what the user sees.")]})
    return ticket_update(known_error, user=user, changes=changes, editable=EDITABLE[known_error.state])


# --- publish and retire ----------------------------------------------------------------------------------


def note_marker(known_error: KnownError) -> str:
    """How a workaround note on an incident begins: the known error's number, so that it is written once."""
    return f"[{known_error.number}]"


def _note_workaround(known_error: KnownError, user: Any) -> list[str]:
    """The workaround as a comment on each open incident of the known error's problem that has not had it yet
    (closed ones untouched); the numbers of the incidents noted."""
    if known_error.problem_id is None:
        return []
    content_type = ContentType.objects.get_for_model(Incident)
    marker = note_marker(known_error)
    noted = Comment.objects.filter(content_type=content_type, body__startswith=marker).values("object_id")
    incidents = list(Incident.objects.filter(problem_links__problem_id=known_error.problem_id,
                                             state__in=INCIDENT_OPEN_STATES)
                     .exclude(pk__in=noted).order_by("pk").values_list("pk", "number"))
    body = f"{marker} {known_error.title}\n{_('Workaround')}: {known_error.workaround}"
    Comment.objects.bulk_create([Comment(content_type=content_type, object_id=pk, author=user, body=body)
                                 for pk, _number in incidents])
    return [number for _pk, number in incidents]


def known_errors_resolved(problem: Problem, *, user: Any) -> list[KnownError]:
    """Its problem's report is approved: every known error recorded from the problem that is not retired takes the
    report's solution as its permanent fix (and the report's cause as its root cause where it had none), each
    change on the known error's timeline. The problem's `approve_report` calls it in its transaction."""
    resolved = []
    for known_error in KnownError.objects.filter(problem=problem).exclude(state=KnownErrorState.RETIRED).order_by("pk"):
        changes = {"permanent_fix": problem.report_solution.strip()}
        if not known_error.root_cause.strip() and problem.report_cause.strip():
            changes["root_cause"] = problem.report_cause.strip()
        if all(getattr(known_error, field) == value for field, value in changes.items()):
            continue
        resolved.append(ticket_update(known_error, user=user, changes=changes, editable=RESOLVED_FIELDS))
    return resolved


def known_error_transition(known_error: KnownError, name: str, *, user: Any, comment: str = "",
                           data: dict[str, Any] | None = None) -> KnownError:
    """Publish or retire a known error through the kernel's transition service. Publishing notes the workaround on
    every open incident linked to its problem, once per incident, in the same transaction; the incidents noted are
    on the known error's timeline."""

    def then(locked: KnownError, log: Any) -> None:
        if name == "publish":
            noted = _note_workaround(locked, user)
            if noted:
                FieldChange.objects.create(content_type=ContentType.objects.get_for_model(KnownError),
                                           object_id=locked.pk, field=NOTED_FIELD, old_value="",
                                           new_value=", ".join(noted), actor=user)

    return perform_transition(known_error, name, user=user, comment=comment, data=data, then=then)


# --- reads -----------------------------------------------------------------------------------------------


def known_error_list(*, user: Any) -> QuerySet[KnownError]:
    """The known errors the user may see (IT staff and auditors), with what a list row shows."""
    return KnownError.objects.visible_to(user).select_related(*LIST_RELATED)


def known_error_get(*, user: Any, pk: int) -> KnownError:
    """One known error the user may see (KnownError.DoesNotExist otherwise → 404)."""
    return known_error_list(user=user).select_related("created_by").get(pk=pk)


def known_error_search(queryset: QuerySet[KnownError], text: str) -> QuerySet[KnownError]:
    """Known errors whose number, title, symptom, root cause or workaround contains every word of `text`."""
    for word in (text or "").split()[:8]:
        queryset = queryset.filter(Q(number__icontains=word) | Q(title__icontains=word) | Q(symptom__icontains=word)
                                   | Q(root_cause__icontains=word) | Q(workaround__icontains=word))
    return queryset


def problem_known_errors(*, user: Any, problem: Problem) -> list[KnownError]:
    """The known errors recorded from a problem, newest first."""
    return list(KnownError.objects.visible_to(user).filter(problem=problem)
                .only("pk", "number", "title", "state", "problem_id").order_by("-created_at", "-pk"))


def _alike(text: str, limit: int) -> list[tuple[int, float]]:
    """The published known errors whose title or symptom reads like `text`, as (pk, likeness), the most alike first.

    On PostgreSQL by trigrams, so that Chinese matches without word breaks: the titles alike as a whole (similarity
    ≥ 0.3, pg_trgm's default), nearest first through the title's GiST trigram index; and the symptoms with a stretch
    alike (word similarity ≥ 0.6), through the symptom's GIN trigram index. Elsewhere: every word in the title, or
    every word in the symptom, newest first. Two queries either way."""
    published = KnownError.objects.published()
    if connection.vendor == "postgresql":
        by_title = (published.filter(TrigramSimilar(F("title"), Value(text)))
                    .annotate(likeness=TrigramSimilarity("title", Value(text)))
                    .order_by(TrigramDistance("title", Value(text))))
        by_symptom = (published.filter(TrigramWordSimilar(F("symptom"), Value(text)))
                      .annotate(likeness=TrigramWordSimilarity(Value(text), "symptom"))
                      .order_by("-likeness", "-published_at", "-pk"))
    else:
        words = [w for w in text.split() if len(w) >= 2][:8] or [text]
        in_title, in_symptom = Q(), Q()
        for word in words:
            in_title &= Q(title__icontains=word)
            in_symptom &= Q(symptom__icontains=word)
        newest = ("-published_at", "-pk")
        by_title = published.filter(in_title).annotate(likeness=Value(1.0)).order_by(*newest)
        by_symptom = published.filter(in_symptom).annotate(likeness=Value(0.5)).order_by(*newest)
    found: dict[int, float] = {}
    for pk, likeness in [*by_title.values_list("pk", "likeness")[:limit],
                         *by_symptom.values_list("pk", "likeness")[:limit]]:
        if pk not in found or likeness > found[pk]:
            found[pk] = likeness
    return sorted(found.items(), key=lambda item: -item[1])[:limit]


def alike_known_errors(text: str, limit: int = SUGGESTIONS) -> list[tuple[int, float]]:
    """`_alike`, kept in Django's cache under the text until a known error is saved or deleted.

    What it saves: an incident's page asked the two trigram queries on every view, about 2 ms of building and
    running them of the page's 25 (the benchmark's database, December 2026); its title rarely changes, and the
    known errors are edited now and then. Whoever asks, the answer is the same: who may read which known error is
    applied by the query that reads the rows (`known_error_suggestions`), as is whether each is still published.
    `problems/tests/test_known_errors.py` checks that an edit, a publication and a retirement are seen at once."""
    digest = hashlib.sha256(text.encode()).hexdigest()
    return cached_by(f"known-errors-alike:{limit}:{digest}", (KnownError,), lambda: _alike(text, limit), timeout=600)


@dataclass(frozen=True)
class PublishedScopes:
    """What the published known errors are recorded against: whether there is any, whether any comes from a
    problem, and the services and configuration items they are on."""

    any: bool
    from_problems: bool
    services: frozenset[int]
    configuration_items: frozenset[int]


def _published_scopes() -> PublishedScopes:
    rows = list(KnownError.objects.published().values_list("problem_id", "service_id", "configuration_item_id")
                .distinct())
    return PublishedScopes(any=bool(rows), from_problems=any(problem for problem, _s, _c in rows),
                           services=frozenset(service for _p, service, _c in rows if service),
                           configuration_items=frozenset(ci for _p, _s, ci in rows if ci))


def published_scopes() -> PublishedScopes:
    """`_published_scopes`, kept in Django's cache until a known error is saved or deleted.

    What it saves: an incident's page asks for the known errors that may explain it, one query of a dozen
    conditions (≈ 2 ms of the page's 18 on the benchmark's database, December 2026). With these scopes it asks only
    for what can match: nothing when no known error is published, no CI's or service's condition when none is
    published on them. The answer is the same with or without them; who may read which known error is applied by
    the query that reads the rows."""
    return cached_by("known-errors-published-scopes", (KnownError,), _published_scopes, timeout=3600)


def known_error_suggestions(*, user: Any, text: str = "", service: Any = None, configuration_item: Any = None,
                            incident: Any = None, limit: int = SUGGESTIONS,
                            columns: tuple[str, ...] = ()) -> list[KnownError]:
    """The published known errors that may explain an incident being recorded or worked, at most `limit`: those of
    the problems `incident` is linked to; then those whose title or symptom reads like its words and that are on
    its CI or service; then the others whose words match, the most alike first; then those on its CI, then its
    service, the newest first. Drafts and retired ones never; nothing for one who may not read known errors.
    One query for the rows, through their indexes, with the known errors alike to the words found by
    `alike_known_errors` (two queries when the cache does not hold them). The rows come with their service and CI,
    or with only `columns` when the caller names them."""
    scopes = published_scopes()
    if not scopes.any:
        return []
    text = " ".join((text or "").split())[:SUGGESTION_TEXT]
    # A service, CI or incident's problems that no published known error is on matches nothing: left out.
    service_id = getattr(service, "pk", service) or None
    service_id = service_id if service_id in scopes.services else None
    ci_id = getattr(configuration_item, "pk", configuration_item) or None
    ci_id = ci_id if ci_id in scopes.configuration_items else None
    incident_id = (getattr(incident, "pk", incident) or None) if scopes.from_problems else None
    visible = KnownError.objects.visible_to(user)
    alike = ({pk: (n, likeness) for n, (pk, likeness) in enumerate(alike_known_errors(text, limit))}
             if len(text) >= 2 else {})
    wanted, ranks = Q(pk__in=list(alike)), []
    if incident_id:
        own = Q(problem_id__in=ProblemIncident.objects.filter(incident_id=incident_id).values("problem_id"))
        wanted |= own
        ranks.append(When(own, then=Value(0)))
    if ci_id:
        wanted |= Q(configuration_item_id=ci_id)
        ranks.append(When(configuration_item_id=ci_id, then=Value(1)))
    if service_id:
        wanted |= Q(service_id=service_id)
        ranks.append(When(service_id=service_id, then=Value(2)))
    if not alike and not ranks:
        return []
    rank = Case(*ranks, default=Value(3), output_field=IntegerField()) if ranks else Value(3)
    worded = Case(When(pk__in=list(alike), then=Value(0)), default=Value(1)) if alike else Value(1)
    rows = visible.published().filter(wanted)
    rows = rows.only(*columns) if columns else rows.select_related("service", "configuration_item")
    rows = rows.annotate(rank=rank, worded=worded).order_by("worded", "rank", "-published_at", "-pk")
    rows = rows[:len(alike) + limit]
    placed = []
    for n, ke in enumerate(rows):
        if ke.pk in alike:
            position, ke.likeness = alike[ke.pk]
            placed.append((0 if ke.rank == 0 else 1 if ke.rank < 3 else 2, position, ke))
        else:
            placed.append((0 if ke.rank == 0 else 3, limit + n, ke))
    return [ke for _group, _n, ke in sorted(placed, key=lambda p: (p[0], p[1]))][:limit]


def incident_suggestions(*, user: Any, incident: Incident) -> list[KnownError]:
    """Published known errors that may explain an incident: its problems' own, then those from its CI, service and
    title."""
    return known_error_suggestions(user=user, text=incident.title, service=incident.service_id,
                                   configuration_item=incident.configuration_item_id, incident=incident.pk,
                                   columns=INCIDENT_SUGGESTION_COLUMNS)


def find_problem(*, user: Any, pk: Any) -> Problem:
    """A problem the user may see, by id (404 for any other)."""
    try:
        return Problem.objects.visible_to(user).select_related(
            "service", "configuration_item", "category").get(pk=int(pk))
    except (Problem.DoesNotExist, ValueError, TypeError, OverflowError):
        raise NotFound({"problem": [_("There is no such problem.")]}) from None
