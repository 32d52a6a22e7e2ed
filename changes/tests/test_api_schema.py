"""The change API against its own OpenAPI schema: requests generated from it (schemathesis) — requests, edits,
transitions, opinions, steps, reviews, templates and windows — are never answered with a server error.
Bounded and derandomized, with the kernel's schema, settings and connection fixture."""

from typing import Any

import pytest

from changes.choices import State
from changes.tests.factories import change_in_state, make_crew
from opscenter.core.testing.api_schema import FUZZ, _keep_the_test_connection, call_and_check, schema
from opscenter.core.tokens import api_token_create

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures(_keep_the_test_connection.__name__)]


@pytest.fixture
def world() -> dict[str, Any]:
    """A supervisor's token and a change awaiting approval for the generated requests to point at."""
    crew = make_crew()
    change = change_in_state(State.AWAITING_APPROVAL, crew)
    _token, key = api_token_create(user=crew.supervisor)
    return {"headers": {"Authorization": f"Token {key}"},
            "ids": {"/api/v1/changes/": change.pk, "/api/v1/services/": crew.service.pk}}


@schema.include(path_regex=r"^/api/v1/changes/", method=["POST", "PATCH"]).parametrize()
@FUZZ
def test_change_writes_never_answer_a_server_error(case: Any, world: dict[str, Any]) -> None:
    call_and_check(case, world)


@schema.include(path_regex=r"^/api/v1/(change-templates|freeze-windows|maintenance-windows)/",
                method=["POST", "PATCH", "PUT"]).parametrize()
@FUZZ
def test_template_and_window_writes_never_answer_a_server_error(case: Any, world: dict[str, Any]) -> None:
    call_and_check(case, world)
