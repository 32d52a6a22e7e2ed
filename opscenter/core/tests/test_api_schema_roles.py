"""The whole API against its own OpenAPI schema as a supervisor, an engineer and a department user: every
operation, reads and writes, is called with requests generated from the schema (schemathesis) and pointed at a
world of real rows (an incident with an attachment, a change, a problem with its action and incidents, a roster
with shifts and a swap, a duty log entry, an agreement, the caller's own tokens), and none is answered with a
server error. Bounded: derandomized, a few requests per operation and role, the world built once and every request
rolled back (the kernel's `call_and_check`)."""

from collections.abc import Iterator
from dataclasses import dataclass, replace
from datetime import time, timedelta
from typing import Any

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import transaction
from django.utils import timezone
from hypothesis import settings

from changes.choices import State as ChangeState
from changes.models import FreezeWindow, MaintenanceWindow, RiskQuestion
from changes.tests.factories import approved_template, change_in_state
from changes.tests.factories import make_crew as change_crew
from duty.choices import LogKind
from duty.log import log_entry_record
from duty.tests.swap_scenarios import give, swap_world
from incidents.choices import State as IncidentState
from incidents.models import Category, PriorityRule
from incidents.tests.factories import incident_in_state
from incidents.tests.factories import make_crew as incident_crew
from opscenter.core import roles
from opscenter.core.services import attachment_add
from opscenter.core.testing.api_schema import FUZZ, _keep_the_test_connection, call_and_check, sweep_schema
from opscenter.core.tests.factories import ConfigurationItemFactory, UserFactory
from opscenter.core.tokens import api_token_create
from problems.choices import State as ProblemState
from problems.tests.factories import ProblemCrew, problem_in_state
from sla.models import Outage
from sla.tests.factories import agreement, office_calendar

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures(_keep_the_test_connection.__name__)]

ROLES = ["supervisor", "engineer", "department_user"]

# 186 operations × 3 roles: the schema's own examples and two generated requests each (without the coverage
# phase's boundary cases, which the apps' schema tests send) keep the run near a minute.
FEW = settings(FUZZ, max_examples=2)


@dataclass
class World:
    """Who calls (a token per role) and what the path parameters point at."""

    keys: dict[str, str]
    token_keys: dict[str, str]
    ids: dict[str, Any]


def attachment(ticket: Any, user: Any) -> int:
    return attachment_add(ticket, user=user, upload=SimpleUploadedFile("note.txt", b"Seen at 09:00.")).pk


def build_world() -> World:
    """One department, its caller and agreement; a duty team with a published roster, its supervisor and
    engineers; an incident assigned to one of them, a change that engineer asked for, a problem they own."""
    duty = swap_world()
    crew = incident_crew(team=duty.crew.team, supervisor=duty.supervisor)
    engineer, supervisor, caller = crew.engineer, crew.supervisor, crew.caller
    incident = incident_in_state(IncidentState.ASSIGNED, crew=crew)
    changers = replace(change_crew(), requester=engineer, supervisor=supervisor)
    change = change_in_state(ChangeState.AWAITING_APPROVAL, changers)
    problem = problem_in_state(ProblemState.ANALYZING, ProblemCrew(
        manager=UserFactory(roles=[roles.PROBLEM_MANAGER]), supervisor=supervisor, engineer=engineer,
        other_engineer=duty.b, duty=crew.duty))
    shift = duty.shift(duty.a, days=5)
    swap = give(duty, shift, duty.b)
    entry = log_entry_record(user=supervisor, kind=LogKind.NOTICE, text="Backup window moved to 02:00.")
    calendar = office_calendar()
    sla_agreement = agreement(crew.department, calendar)
    now = timezone.now()
    outage = Outage.objects.create(incident=incident, service=changers.service, started_at=now - timedelta(hours=1),
                                   ended_at=now, recorded_by=engineer)
    freeze = FreezeWindow.objects.create(name="Year-end freeze", starts_at=now + timedelta(days=30),
                                         ends_at=now + timedelta(days=32))
    maintenance = MaintenanceWindow.objects.create(service=changers.service, name="Nightly", recurrence="FREQ=DAILY",
                                                   start_time=time(2), duration_minutes=30)
    configuration_item = ConfigurationItemFactory()
    configuration_item.services.add(changers.service)
    tokens = {role: api_token_create(user=user) for role, user in
              zip(ROLES, (supervisor, engineer, caller), strict=True)}
    return World(
        keys={role: key for role, (_token, key) in tokens.items()},
        token_keys={role: token.token_key for role, (token, _key) in tokens.items()},
        ids={
            # A transition the path names is a real one of the row's state; whether the role may take it varies.
            "/api/v1/incidents/": {"id": incident.pk, "attachment_id": attachment(incident, engineer),
                                   "transition": "start_diagnosis"},
            "/api/v1/sla/incidents/": incident.pk,
            "/api/v1/changes/": {"id": change.pk, "attachment_id": attachment(change, engineer),
                                 "position": 1, "transition": "approve"},
            "/api/v1/problems/": {"id": problem.pk, "incident_id": problem.incidents.first().pk,
                                  "attachment_id": attachment(problem, engineer), "transition": "solve"},
            "/api/v1/problem-actions/": {"id": problem.actions.get().pk, "transition": "complete"},
            "/api/v1/change-templates/": {"id": approved_template(changers).pk, "transition": "retire"},
            "/api/v1/freeze-windows/": freeze.pk,
            "/api/v1/maintenance-windows/": maintenance.pk,
            "/api/v1/duty/rosters/": {"id": duty.roster.pk, "transition": "withdraw"},
            "/api/v1/duty/shifts/": shift.pk,
            "/api/v1/duty/attendance/": {"id": shift.pk, "transition": "check_in"},
            "/api/v1/duty/swaps/": {"id": swap.pk, "transition": "accept"},
            "/api/v1/duty/log/": entry.pk,
            "/api/v1/sla/agreements/": sla_agreement.pk,
            "/api/v1/sla/calendars/": calendar.pk,
            "/api/v1/sla/outages/": outage.pk,
            "/api/v1/incident-categories/": Category.objects.values_list("pk", flat=True).first(),
            "/api/v1/priority-matrix/": PriorityRule.objects.values_list("pk", flat=True).first(),
            "/api/v1/risk-questions/": RiskQuestion.objects.values_list("pk", flat=True).first(),
            "/api/v1/departments/": crew.department.pk,
            "/api/v1/teams/": crew.team.pk,
            "/api/v1/users/": engineer.pk,
            "/api/v1/services/": changers.service.pk,
            "/api/v1/configuration-items/": configuration_item.pk,
        },
    )


@pytest.fixture(scope="module")
def world(django_db_setup: None, django_db_blocker: Any) -> Iterator[World]:
    """Built once for the module in a transaction rolled back at its end; each test runs in a savepoint."""
    with django_db_blocker.unblock(), transaction.atomic():
        yield build_world()
        transaction.set_rollback(True)


@pytest.fixture(params=ROLES)
def caller(request: pytest.FixtureRequest, world: World) -> dict[str, Any]:
    role = request.param
    return {"headers": {"Authorization": f"Token {world.keys[role]}"},
            "ids": {**world.ids, "/api/v1/auth/tokens/": {"key": world.token_keys[role]}}}


@sweep_schema.parametrize()
@FEW
def test_no_operation_answers_a_server_error_to_any_role(case: Any, caller: dict[str, Any]) -> None:
    call_and_check(case, caller)


def test_the_world_is_what_the_paths_point_at(world: World) -> None:
    """Every path the world names points at a row (reference data included), so that the run reaches real objects
    rather than 404s."""
    assert None not in world.ids.values()
    assert len(set(world.keys.values())) == len(ROLES)



def test_only_lists_document_the_list_filters() -> None:
    """A list's filters are documented on the list alone: an action that shares its path's viewset (linking
    incidents to a problem, giving an opinion on a change) takes none, and a generated request should not send
    them (they doubled the requests of a schema run over those actions). A detail may take its own parameter."""
    with_query = {f"{method.upper()} {path}" for path, operations in sweep_schema.raw_schema["paths"].items()
                  for method, operation in operations.items() if isinstance(operation, dict)
                  and (method != "get" or path.endswith("}/"))
                  and any(parameter.get("in") == "query" for parameter in operation.get("parameters", []))}
    assert with_query == {"GET /api/v1/sla/dashboard/{id}/"}  # ?month=
