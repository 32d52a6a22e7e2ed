"""Read queries of problem management, with visibility applied, shared by pages, API, panels and extensions."""

from datetime import timedelta
from typing import Any

from django.db.models import Exists, OuterRef, Prefetch, QuerySet
from django.utils import timezone

from changes.models import Change
from incidents.models import Incident
from problems.choices import OPEN_STATES, ActionState
from problems.models import ActionItem, Problem

LIST_RELATED = ("owner", "service", "configuration_item", "category", "team")
# What a list row reads of its actions: enough for the transitions it offers (planned, all done) and the badges.
ROW_ACTIONS = ActionItem.objects.only("pk", "problem_id", "state", "owner_id", "due_date")
OPEN_ACTION_STATES = [ActionState.OPEN, ActionState.IN_PROGRESS]


def overdue_actions(at: Any = None) -> QuerySet[ActionItem]:
    """Actions still open past their due date (today local time)."""
    return ActionItem.objects.overdue(at)


def problem_list(*, user: Any) -> QuerySet[Problem]:
    """The problems the user may see, with what a list row shows and reads (its actions among them)."""
    return (Problem.objects.visible_to(user).select_related(*LIST_RELATED)
            .prefetch_related(Prefetch("actions", queryset=ROW_ACTIONS)))


def problem_queue(*, user: Any, queue: str) -> QuerySet[Problem]:
    """The named queue: mine (open problems I own), open, overdue (open problems with an action past its due
    date), all."""
    qs = problem_list(user=user)
    if queue == "mine":
        return qs.filter(owner=user, state__in=OPEN_STATES)
    if queue == "open":
        return qs.filter(state__in=OPEN_STATES)
    if queue == "overdue":
        return qs.filter(state__in=OPEN_STATES).filter(
            Exists(overdue_actions().filter(problem=OuterRef("pk"))))
    return qs


PLAN_ACTIONS = ActionItem.objects.select_related("owner").order_by("due_date", "pk")


def problem_get(*, user: Any, pk: int) -> Problem:
    """One problem the user may see (Problem.DoesNotExist otherwise → 404), with its people and references, and its
    actions (the plan, and what its transitions' conditions read)."""
    return (Problem.objects.visible_to(user).select_related(*LIST_RELATED, "created_by", "report_submitted_by")
            .prefetch_related(Prefetch("actions", queryset=PLAN_ACTIONS)).get(pk=pk))


def problem_actions(problem: Problem) -> list[ActionItem]:
    """The solution plan: the problem's actions with their owners, by due date (prefetched by `problem_get`)."""
    return list(problem.actions.all())


def problem_incidents(*, user: Any, problem: Problem) -> list[Incident]:
    """The problem's incidents the user may see, with when and by whom each was linked, oldest link first."""
    return list(Incident.objects.visible_to(user).filter(problem_links__problem=problem)
                .select_related("service").order_by("problem_links__linked_at", "pk"))


def problem_changes(*, user: Any, problem: Problem) -> list[Change]:
    """The changes raised from or linked to the problem that the user may see."""
    return list(Change.objects.visible_to(user).filter(problems=problem)
                .only("pk", "number", "title", "state", "change_type").order_by("created_at", "pk"))


def incident_problems(*, user: Any, incident: Incident) -> list[Problem]:
    """The problems an incident is linked to that the user may see, newest first (the incident page's side)."""
    return list(Problem.objects.visible_to(user).filter(incident_links__incident=incident)
                .only("pk", "number", "title", "state").order_by("-created_at", "-pk"))


def change_problems(*, user: Any, change: Change) -> list[Problem]:
    """The problems a change was raised from or linked to, that the user may see (the change page's side)."""
    return list(Problem.objects.visible_to(user).filter(changes=change)
                .only("pk", "number", "title", "state").order_by("-created_at", "-pk"))


def my_open_problems(*, user: Any) -> QuerySet[Problem]:
    """Open problems the user owns, the oldest first (the home panel)."""
    return problem_list(user=user).filter(owner=user, state__in=OPEN_STATES).order_by("created_at", "pk")


def actions_due(*, user: Any, days: int = 7, everyone: bool = False) -> QuerySet[ActionItem]:
    """Unfinished actions of open problems due within `days` (or past due), the most overdue first: the user's own,
    or every one (`everyone`, for problem managers) among problems the user may see."""
    until = timezone.localdate() + timedelta(days=days)
    qs = (ActionItem.objects.filter(state__in=OPEN_ACTION_STATES, due_date__lte=until,
                                    problem__in=Problem.objects.visible_to(user).filter(state__in=OPEN_STATES))
          .select_related("problem", "owner"))
    if not everyone:
        qs = qs.filter(owner=user)
    return qs.order_by("due_date", "pk")
