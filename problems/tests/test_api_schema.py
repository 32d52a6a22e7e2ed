"""The problem API against its own OpenAPI schema: requests generated from it — identifying, edits (the analysis's
structure among them), links, transitions, action items, raising a change — are never answered with a server error.
Bounded and derandomized, with the kernel's schema, settings and connection fixture."""

from typing import Any

import pytest

from opscenter.core.testing.api_schema import FUZZ, _keep_the_test_connection, call_and_check, schema
from opscenter.core.tokens import api_token_create
from problems.choices import State
from problems.tests.factories import ProblemCrew, problem_in_state

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures(_keep_the_test_connection.__name__)]


@pytest.fixture
def world(crew: ProblemCrew) -> dict[str, Any]:
    """A problem manager's token and a problem being analysed (with its action) for the requests to point at."""
    problem = problem_in_state(State.ANALYZING, crew)
    _token, key = api_token_create(user=crew.manager)
    return {"headers": {"Authorization": f"Token {key}"},
            "ids": {"/api/v1/problems/": problem.pk, "/api/v1/problem-actions/": problem.actions.get().pk}}


# Comments and attachments are the kernel's ticket actions, the same for every ticket: the incident schema test
# sends them their boundary cases and the sweep of the whole schema sends them as every role.
@schema.include(path_regex=r"^/api/v1/(problems|problem-actions)/(?!\{id\}/(comments|attachments)/)",
                method=["POST", "PATCH", "DELETE"]).parametrize()
@FUZZ
def test_problem_writes_never_answer_a_server_error(case: Any, world: dict[str, Any]) -> None:
    call_and_check(case, world)
