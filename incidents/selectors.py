"""Read queries of incident management, with visibility applied, shared by pages, API and reports."""

import functools
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from django.db.models import Avg, Count, DurationField, ExpressionWrapper, F, Q, QuerySet
from django.utils.translation import gettext_lazy as _

from incidents import columns
from incidents.choices import ASSIGN_STATES, OPEN_STATES, SlaTarget
from incidents.models import Category, Incident
from opscenter.core.columns import column_reads
from opscenter.core.selectors import load_relations, ticket_search

# PostgreSQL spends longer choosing the order of a query's joins than running it once there are more than
# a few: with the 7 relations a row used to join, 60–85 ms of planning for 1 ms of execution over 100,000
# incidents; with 4, about 1 ms (docs/performance.md). So a row joins the four a list row shows, and
# anything more comes with one `IN (the rows' ids)` query per relation (< 1 ms each, whatever the rows).
LIST_RELATED = ("category", "service", "team", "assignee")
# What an API row adds.
API_PREFETCHED = ("department", "caller", "created_by", "configuration_item")
# Columns no list row shows, nor reads to offer its transitions (those read the state, the assignee, team,
# reporter and caller, and `is_major`): left in the database, they are neither sent nor decoded — a
# row of a worked incident carries a dozen texts and date-times of its diagnosis, tests and report.
ROW_DEFERRED = ("description", "impact_scope", "caller_contact", "impact", "urgency", "classified_at",
                "assign_overdue_notified_at", "assigned_at", "diagnosis_cause", "diagnosis_scope",
                "measures", "test_function_note", "test_performance_note", "test_data_note", "resolution",
                "resolved_by", "held_from", "hold_reason", "cancel_reason", "report_cause", "report_process",
                "report_measures", "report_result", "report_submitted_at", "closed_at", "major_declared_at",
                "duplicate_of", "sla_due_at", "finished")


# What a row shows of the records it joins (their names; a category's code and whether it is a security one):
# the rest of their columns (a user's password hash, dates, flags …) stay in the database too. Fewer columns
# are also fewer for Django to compile into the query on every request.
ROW_RELATED_FIELDS = {
    "category": ("code", "name", "name_zh_hant", "is_security"),
    "service": ("code", "name"),
    "team": ("code", "name"),
    "assignee": ("username", "display_name", "first_name", "last_name"),
}


@functools.cache
def _row_fields() -> tuple[str, ...]:
    own = [f.name for f in Incident._meta.concrete_fields if f.name not in ROW_DEFERRED]
    return (*own, *(f"{name}__{field}" for name in LIST_RELATED for field in ("id", *ROW_RELATED_FIELDS[name])))


def list_rows(qs: QuerySet[Incident]) -> QuerySet[Incident]:
    """The incidents of a list (joined with LIST_RELATED), without the columns only a detail shows, nor those of
    the joined records that no row shows."""
    return qs.only(*_row_fields())


def queue_rows(qs: QuerySet[Incident]) -> QuerySet[Incident]:
    """The incidents of the queue page with what its columns read (incidents.columns), joined in one query."""
    joins, fields = column_reads(columns.QUEUE_COLUMNS)
    return qs.select_related(None).select_related(*joins).only(*fields)


# --- What is due, and the most urgent first -------------------------------------------------------------------

# Open incidents first; then the priority, an unclassified report (no priority yet: "" sorts first) before a P1,
# then P2 …; then the nearest deadline (none last); then who has waited longest (the lowest id). Finished incidents
# follow in the same order. Every key is a column of the row, in the order of the incident_urgent index: a page of
# any list in this order is read from the index, without sorting the rows that match.
URGENT_FIRST = ("finished", "priority", F("next_due_at").asc(nulls_last=True), "id")


def most_urgent_first(qs: QuerySet[Incident]) -> QuerySet[Incident]:
    """The incidents, the most urgent first (URGENT_FIRST)."""
    return qs.order_by(*URGENT_FIRST)


@dataclass(frozen=True)
class Deadline:
    """What an incident waits for next and by when: `label` ("Assign by", "Respond by" …), `at`."""

    label: Any
    at: datetime

    def left(self, now: datetime) -> timedelta:
        """The time left before it (negative once past)."""
        return self.at - now


def next_deadline(incident: Incident) -> Deadline | None:
    """The incident's nearest deadline as its row holds it (`next_due_at`): assigning it while it waits for a team
    (and that comes first), else the next target of its SLA clocks, its first response or its resolution."""
    due = incident.next_due_at
    if due is None:
        return None
    if incident.state in ASSIGN_STATES and incident.assign_due_at == due:
        return Deadline(_("Assign by"), due)
    if incident.sla_due_kind == SlaTarget.RESPONSE:
        return Deadline(_("Respond by"), due)
    return Deadline(_("Resolve by"), due)


def incident_list(*, user: Any) -> QuerySet[Incident]:
    """Incidents the user may see, with what a list row shows."""
    return Incident.objects.visible_to(user).select_related(*LIST_RELATED)


def incident_search(*, user: Any, text: str, limit: int = 20) -> list[dict[str, Any]]:
    """Incidents the user may see whose number or title holds the text, newest first (a search box's results:
    their pk, number and title; the forms that link incidents to changes, problems and the duty log ask it)."""
    return ticket_search(Incident.objects.visible_to(user), text, limit=limit)


def incident_get(*, user: Any, pk: int) -> Incident:
    """One incident the user may see (Incident.DoesNotExist otherwise → 404), with the list's joins and the records
    of its own that its page shows (DETAIL_JOINED).

    The parent and the original of a duplicate come with `complete_detail` (the API's further relations with
    `complete_rows`), or load when first read."""
    return incident_list(user=user).select_related(*DETAIL_JOINED).get(pk=pk)


# The records of its own that an incident's page shows, joined in the query that reads it: its department, its
# people (caller, recorder and resolver) and its configuration item. Nine joins cost PostgreSQL 4–6 ms of planning
# (the lists keep four: LIST_RELATED), but the query is the same for every incident, so that it is planned once per
# connection and kept as a prepared statement (DATABASE_PREPARED_STATEMENTS, on by default): 1.9 ms for the query
# against 3.7 ms for the four-join query and one more query per model (docs/performance.md, December 2026).
DETAIL_JOINED = ("department", "caller", "created_by", "resolved_by", "configuration_item")
# The further records the detail page shows: an incident rarely has either, and none is read for one it lacks.
DETAIL_RELATED = ("parent", "duplicate_of")


def complete_detail(incident: Incident) -> Incident:
    """The parent and the original of a duplicate of an incident (DETAIL_RELATED), with one query for both and
    none when it has neither (prefetch_related sends a query per relation, with ≈ 5 ms of machinery)."""
    load_relations([incident], DETAIL_RELATED)
    return incident


def incident_queue(*, user: Any, queue: str) -> QuerySet[Incident]:
    """The named queue: mine, team, unassigned, open, all; with what a list row shows (`queue_rows` narrows it to
    what the queue page's columns show). A person's and a team's open incidents are found by their indexes
    (assignee or team, then state); all open ones as `finished=False`, the first key of the urgent order's index."""
    qs = list_rows(incident_list(user=user))
    if queue == "mine":
        return qs.filter(assignee=user, state__in=OPEN_STATES)
    if queue == "team":
        return qs.filter(team__in=user.teams.all(), state__in=OPEN_STATES)
    if queue == "unassigned":
        return qs.filter(state__in=ASSIGN_STATES)
    if queue == "open":
        return qs.filter(finished=False)
    return qs


def categories() -> QuerySet[Category]:
    return Category.objects.select_related("default_team")


def incident_summary(*, user: Any, start: datetime, end: datetime) -> dict[str, Any]:
    """The periodic summary (事件總結) over incidents reported in [start, end), visibility applied:
    counts by category, priority, service and state; MTTA and MTTR; the services and CIs with most incidents."""
    qs = Incident.objects.visible_to(user).filter(created_at__gte=start, created_at__lt=end)

    def counts(*fields: str) -> list[dict[str, Any]]:
        return list(qs.values(*fields).annotate(count=Count("pk")).order_by("-count", *fields))

    response = ExpressionWrapper(F("first_response_at") - F("created_at"), output_field=DurationField())
    resolution = ExpressionWrapper(F("resolved_at") - F("created_at"), output_field=DurationField())
    times = qs.aggregate(
        total=Count("pk"),
        mtta=Avg(response),
        mttr=Avg(resolution),
    )
    return {
        "total": times["total"],
        "mtta": times["mtta"],
        "mttr": times["mttr"],
        "by_category": counts("category__code", "category__name", "category__name_zh_hant"),
        "by_priority": counts("priority"),
        "by_service": counts("service", "service__code", "service__name")[:10],
        "by_state": counts("state"),
        "top_cis": list(qs.exclude(configuration_item=None).values("configuration_item", "configuration_item__name")
                        .annotate(count=Count("pk")).order_by("-count", "configuration_item__name")[:10]),
    }


def incident_relations(*, user: Any, incident: Incident) -> dict[str, list[Incident]]:
    """The children and the duplicates of an incident that the user may see (one query)."""
    related = list(Incident.objects.visible_to(user).filter(Q(parent=incident) | Q(duplicate_of=incident))
                   .order_by("created_at", "pk"))
    return {
        "children": [i for i in related if i.parent_id == incident.pk],
        "duplicates": [i for i in related if i.duplicate_of_id == incident.pk],
    }


def incident_assignable_users() -> QuerySet[Any]:
    """Active members of active teams, with their teams, for the assignment forms."""
    from opscenter.core.models import User

    return (User.objects.filter(is_active=True, teams__is_active=True).distinct()
            .prefetch_related("teams").order_by("display_name", "username"))


def incident_list_detailed(*, user: Any) -> QuerySet[Incident]:
    """Incidents the user may see with the list's joins and whether each has its review-meeting record (the
    close condition of a major incident reads it). An API row's further relations come with `complete_rows`."""
    from django.db.models import Exists, OuterRef

    from incidents.models import MajorIncidentReview

    return incident_list(user=user).annotate(
        has_review=Exists(MajorIncidentReview.objects.filter(incident=OuterRef("pk"))))


def complete_rows(rows: list[Incident]) -> list[Incident]:
    """What an API row shows beyond the list's joins (department, caller, reporter, configuration item): one
    query for the users among them and one for each other model the rows point to."""
    load_relations(rows, API_PREFETCHED, only=_row_relation_fields())
    return rows


@functools.cache
def _row_relation_fields() -> dict[type, tuple[str, ...]]:
    """The columns an API row shows of its department, people and configuration item (their references)."""
    from opscenter.core.models import ConfigurationItem, Department, User

    return {Department: ("code", "name"), User: ROW_RELATED_FIELDS["assignee"],
            ConfigurationItem: ("name", "asset_tag")}
