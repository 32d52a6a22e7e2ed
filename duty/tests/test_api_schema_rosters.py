"""The roster, shift and on-duty endpoints against their own OpenAPI schema: requests generated from it
(schemathesis) are never answered with a server error. Bounded and derandomized, like the incident API's smoke
test whose schema and connection fixture it shares."""

from datetime import timedelta
from typing import Any

import pytest
from django.utils import timezone

from duty import rosters
from duty.tests.factories import duty_crew, four_engineers, rotation_of
from opscenter.core.testing.api_schema import FUZZ, _keep_the_test_connection, call_and_check, schema
from opscenter.core.tokens import api_token_create

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures(_keep_the_test_connection.__name__)]


@pytest.fixture
def world() -> dict[str, Any]:
    """A supervisor's token and a draft roster (with its shifts) for the generated requests to point at."""
    crew = duty_crew()
    first = timezone.localdate() + timedelta(days=5)
    rotation_of(crew, four_engineers(crew), starts_on=first)
    roster = rosters.roster_generate(user=crew.supervisor, team=crew.team, first_day=first,
                                     last_day=first + timedelta(days=3))
    _token, key = api_token_create(user=crew.supervisor)
    return {"headers": {"Authorization": f"Token {key}"},
            "ids": {"/api/v1/duty/rosters/": roster.pk, "/api/v1/duty/shifts/": roster.shifts.first().pk}}


@schema.include(path_regex=r"^/api/v1/duty/(rosters|shifts|on-duty)/").parametrize()
@FUZZ
def test_roster_endpoints_never_answer_a_server_error(case: Any, world: dict[str, Any]) -> None:
    call_and_check(case, world)
