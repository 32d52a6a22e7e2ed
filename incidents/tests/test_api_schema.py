"""The API against its own OpenAPI schema: requests generated from it (schemathesis) are never answered with
a server error. Bounded and derandomized: a smoke test, not the fuzzing a `schemathesis run` does."""

from typing import Any

import pytest
import schemathesis
from hypothesis import HealthCheck, settings
from rest_framework.authtoken.models import Token
from schemathesis.checks import not_a_server_error

from incidents.choices import State
from incidents.models import Incident
from incidents.tests.factories import Crew, incident_in_state, make_crew
from opscenter.wsgi import application

pytestmark = pytest.mark.django_db

schema = schemathesis.openapi.from_wsgi("/api/v1/schema/", application)

FUZZ = settings(max_examples=6, deadline=None, derandomize=True, database=None,
                suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow,
                                       HealthCheck.filter_too_much, HealthCheck.data_too_large])


@pytest.fixture(autouse=True)
def _keep_the_test_connection() -> Any:
    """The WSGI app closes database connections at the end of each request (request_finished); in a test
    that would close the test's own transaction on PostgreSQL. Django's test client disconnects it too."""
    from django.core.signals import request_finished, request_started
    from django.db import close_old_connections

    request_started.disconnect(close_old_connections)
    request_finished.disconnect(close_old_connections)
    yield
    request_started.connect(close_old_connections)
    request_finished.connect(close_old_connections)


@pytest.fixture
def world() -> dict[str, Any]:
    """A supervisor's token and the ids the generated requests point at: an assigned incident, its
    department, team and engineer (generated ids alone would only ever meet 404s)."""
    crew: Crew = make_crew()
    incident: Incident = incident_in_state(State.ASSIGNED, crew=crew)
    token, _created = Token.objects.get_or_create(user=crew.supervisor)
    return {
        "headers": {"Authorization": f"Token {token.key}"},
        "ids": {"/api/v1/incidents/": incident.pk, "/api/v1/departments/": crew.department.pk,
                "/api/v1/teams/": crew.team.pk, "/api/v1/users/": crew.engineer.pk},
    }


def call_and_check(case: Any, world: dict[str, Any]) -> None:
    for prefix, pk in world["ids"].items():
        if case.operation.path.startswith(prefix) and "id" in (case.path_parameters or {}):
            case.path_parameters["id"] = pk
    case.call_and_validate(headers=world["headers"], checks=[not_a_server_error])


@schema.include(method="GET").parametrize()
@FUZZ
def test_reading_never_answers_a_server_error(case: Any, world: dict[str, Any]) -> None:
    call_and_check(case, world)


@schema.include(method="POST", path_regex=r"/incidents/\{id\}/(transitions|link|comments)").parametrize()
@FUZZ
def test_transitions_and_links_never_answer_a_server_error(case: Any, world: dict[str, Any]) -> None:
    call_and_check(case, world)
