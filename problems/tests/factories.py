"""Factories of problem management: problems, action items and known errors written as rows, the people a problem
meets, and problems walked through the real services to any state."""

from dataclasses import dataclass
from datetime import timedelta
from typing import Any

import factory
from django.utils import timezone

from incidents.models import Incident
from incidents.tests.factories import IncidentFactory
from opscenter.core import roles
from opscenter.core.demo import stepped_clock
from opscenter.core.models import User
from opscenter.core.tests.factories import UserFactory
from problems.choices import Source, State
from problems.models import ActionItem, KnownError, Problem, ProblemPolicy
from problems.services import action_add, action_transition, problem_create, problem_transition, problem_update


class ProblemFactory(factory.django.DjangoModelFactory):
    """A problem written as a row (no timeline): for lists and query counts."""

    class Meta:
        model = Problem

    title = factory.Sequence(lambda n: f"ERP logins time out every Monday #{n}")
    description = "Three incidents in a month: the ERP login page times out at 09:00 on Mondays."
    created_by = factory.SubFactory(UserFactory, roles=[roles.PROBLEM_MANAGER])


class ActionItemFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = ActionItem

    problem = factory.SubFactory(ProblemFactory)
    measure = factory.Sequence(lambda n: f"Raise the connection pool size #{n}")
    owner = factory.SubFactory(UserFactory, roles=[roles.SYSTEM_ENGINEER])
    due_date = factory.LazyFunction(lambda: timezone.localdate() + timedelta(days=7))


class KnownErrorFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = KnownError

    title = factory.Sequence(lambda n: f"ERP login timeout #{n}")
    symptom = "The login page spins for a minute, then shows a timeout."
    root_cause = "The connection pool is exhausted by the Monday batch jobs."
    workaround = "Restart the ERP application service; log in again after two minutes."
    created_by = factory.SubFactory(UserFactory, roles=[roles.PROBLEM_MANAGER])


# --- The people a problem meets, and problems walked through the services -------------------------------------


@dataclass
class ProblemCrew:
    """A problem manager, a supervisor, the engineer who owns the problems, another engineer, a duty officer."""

    manager: User
    supervisor: User
    engineer: User
    other_engineer: User
    duty: User


def make_crew() -> ProblemCrew:
    return ProblemCrew(
        manager=UserFactory(roles=[roles.PROBLEM_MANAGER]),
        supervisor=UserFactory(roles=[roles.SUPERVISOR]),
        engineer=UserFactory(roles=[roles.SYSTEM_ENGINEER]),
        other_engineer=UserFactory(roles=[roles.NETWORK_ENGINEER]),
        duty=UserFactory(roles=[roles.DUTY_OFFICER]),
    )


ROAD = [State.IDENTIFIED, State.INVESTIGATING, State.ANALYZING, State.SOLVING, State.VERIFYING,
        State.UNDER_REVIEW, State.CLOSED]
FISHBONE = {"technology": ["Connection pool of 50 for 400 users", "No alert on pool saturation"],
            "process": ["Batch jobs scheduled at 09:00 on Mondays"], "people": []}
FIVE_WHYS = [{"why": "Why do logins time out?", "because": "No database connection is free."},
             {"why": "Why is none free?", "because": "The Monday batch holds them all."},
             {"why": "Why does the batch hold them?", "because": "It runs at 09:00 with the same pool."}]
REPORT = {"report_cause": "The Monday batch exhausts the shared connection pool.",
          "report_solution": "A separate pool for the batch; the batch moved to 06:00.",
          "report_result": "No timeout in three weeks of observation.",
          "report_lessons": "Alert on pool saturation; review batch schedules with the service owner."}


def problem_in_state(state: str, crew: ProblemCrew, *, incidents: list[Incident] | None = None,
                     title: str = "ERP logins time out every Monday", observed: bool = True, **data: Any) -> Problem:
    """A problem identified from incidents by the problem manager, owned by the crew's engineer, walked through the
    services to `state`: investigated, analysed (root cause, fishbone, 5 whys), one action planned and (from
    verifying on) done, verified and — when `observed` — its observation window over with its report written, the
    report submitted by the engineer and approved by the manager. A cancelled one is cancelled when identified."""
    if incidents is None:
        incidents = [IncidentFactory(title="ERP 登入逾時"), IncidentFactory(title="ERP login timeout again")]
    problem = problem_create(user=crew.manager, incidents=incidents, data={
        "title": title, "description": "Logins time out at 09:00 on Mondays.", "source": Source.INCIDENTS,
        "owner": crew.engineer, **data})
    if state == State.CANCELLED:
        return problem_transition(problem, "cancel", user=crew.manager, comment="A duplicate of another problem.")
    target = ROAD.index(state)
    engineer = crew.engineer
    if target >= 1:
        problem = problem_transition(problem, "investigate", user=engineer)
        problem = problem_update(problem, user=engineer, changes={
            "frequency": "Every Monday 09:00–09:20", "scope": "ERP users of finance and sales",
            "impact": "No order entry for 20 minutes", "data_collected": "Pool metrics, application logs"})
    if target >= 2:
        problem = problem_transition(problem, "analyze", user=engineer)
        problem = problem_update(problem, user=engineer, changes={
            "root_cause": "The Monday batch exhausts the shared connection pool.", "fishbone": FISHBONE,
            "five_whys": FIVE_WHYS})
        action = action_add(problem, user=engineer, data={
            "measure": "Give the batch its own connection pool", "steps": "Configure pool B; point the batch at it",
            "owner": engineer, "due_date": timezone.localdate() + timedelta(days=7)})
    if target >= 3:
        problem = problem_transition(problem, "solve", user=engineer)
        action_transition(action, "complete", user=engineer, data={"result": "Pool B in use since Friday"})
    if target >= 4:
        days = ProblemPolicy.current().observation_days
        with stepped_clock() as clock:
            if observed:
                clock.set(timezone.now() - timedelta(days=days + 1))
            problem = problem_transition(problem, "verify", user=engineer)
        if observed:
            problem = problem_update(problem, user=engineer, changes=REPORT)
    if target >= 5:
        problem = problem_transition(problem, "submit_report", user=engineer)
    if target >= 6:
        problem = problem_transition(problem, "approve_report", user=crew.manager)
    return problem
