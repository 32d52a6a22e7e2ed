"""The API against its own OpenAPI schema: requests generated from it (schemathesis) are never answered with
a server error. Bounded and derandomized, with the kernel's schema, settings and connection fixture."""

from typing import Any

import pytest

from incidents.choices import State
from incidents.models import Incident
from incidents.tests.factories import Crew, incident_in_state, make_crew
from opscenter.core.testing.api_schema import FUZZ, _keep_the_test_connection, call_and_check, schema
from opscenter.core.tokens import api_token_create

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures(_keep_the_test_connection.__name__)]


@pytest.fixture
def world() -> dict[str, Any]:
    """A supervisor's token and the ids the generated requests point at: an assigned incident, its
    department, team and engineer (generated ids alone would only ever meet 404s)."""
    crew: Crew = make_crew()
    incident: Incident = incident_in_state(State.ASSIGNED, crew=crew)
    _token, key = api_token_create(user=crew.supervisor)
    return {
        "headers": {"Authorization": f"Token {key}"},
        "ids": {"/api/v1/incidents/": incident.pk, "/api/v1/departments/": crew.department.pk,
                "/api/v1/teams/": crew.team.pk, "/api/v1/users/": crew.engineer.pk},
    }


@schema.include(method="GET").parametrize()
@FUZZ
def test_reading_never_answers_a_server_error(case: Any, world: dict[str, Any]) -> None:
    call_and_check(case, world)


@schema.include(method="POST", path_regex=r"/incidents/\{id\}/(transitions|link|comments)").parametrize()
@FUZZ
def test_transitions_and_links_never_answer_a_server_error(case: Any, world: dict[str, Any]) -> None:
    call_and_check(case, world)
