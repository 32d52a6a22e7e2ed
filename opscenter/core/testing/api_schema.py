"""The API's OpenAPI schema as a test input: requests generated from it (schemathesis), bounded and derandomized
(a smoke test, not the fuzzing a `schemathesis run` does), pointed at a world of real rows and checked for server
errors. Every app's `tests/test_api_schema*.py` uses these pieces."""

from collections.abc import Iterator
from typing import Any

import pytest
import schemathesis
from django.db import transaction
from hypothesis import HealthCheck, settings
from schemathesis.checks import not_a_server_error

from opscenter.wsgi import application

schema = schemathesis.openapi.from_wsgi("/api/v1/schema/", application)

# The same schema without the coverage phase, for a sweep of every operation under several roles: the coverage
# phase sends every boundary value, wrong type and missing field of an operation (hundreds of requests for a
# large body), which the apps' own schema tests already do once; the sweep keeps the schema's examples and a few
# generated requests per operation and role.
sweep_schema = schemathesis.openapi.from_wsgi("/api/v1/schema/", application)
sweep_schema.config.phases.update(phases=["examples", "fuzzing"])

FUZZ = settings(max_examples=6, deadline=None, derandomize=True, database=None,
                suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow,
                                       HealthCheck.filter_too_much, HealthCheck.data_too_large])


@pytest.fixture
def _keep_the_test_connection() -> Iterator[None]:
    """The WSGI app closes database connections at the end of each request (request_finished); in a test
    that would close the test's own transaction on PostgreSQL. Django's test client disconnects it too."""
    from django.core.signals import request_finished, request_started
    from django.db import close_old_connections

    request_started.disconnect(close_old_connections)
    request_finished.disconnect(close_old_connections)
    yield
    request_started.connect(close_old_connections)
    request_finished.connect(close_old_connections)


def point_at_world(case: Any, ids: dict[str, Any]) -> None:
    """Replace the generated path parameters by the world's: `ids` maps a path's part before its first
    parameter (`/api/v1/incidents/`) to the row's id, or to a dict of parameter values (`{"id": 3,
    "attachment_id": 7}`). Generated ids alone would only ever meet 404s."""
    values = ids.get(case.operation.path.split("{", 1)[0])
    if values is None or not case.path_parameters:
        return
    if not isinstance(values, dict):
        values = {"id": values}
    for name, value in values.items():
        if name in case.path_parameters:
            case.path_parameters[name] = value


def call_and_check(case: Any, world: dict[str, Any]) -> None:
    """Send the case as the world's user and fail on a server error (and on what `world["checks"]` adds). Each
    request runs in a savepoint rolled back afterwards, so that every example meets the world as it was built:
    one that deletes a row or moves a ticket does not leave the next ones a 404 or another state."""
    point_at_world(case, world["ids"])
    with transaction.atomic():
        case.call_and_validate(headers=world["headers"], checks=[not_a_server_error, *world.get("checks", ())])
        transaction.set_rollback(True)
