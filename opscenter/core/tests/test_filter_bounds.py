"""Numbers in list filters are checked against the column they filter: one the column cannot hold is a 400
naming the parameter (never a query the database refuses with a 500), on every filterset; a calendar feed
address with a malformed key is a 404."""

from typing import Any

import pytest

from conftest import assert_error
from opscenter.core.filters import ApiFilterSet, BoundedModelChoiceField, FilterSet
from opscenter.core.tests.factories import DepartmentFactory
from opscenter.core.tests.real_services import require_postgres

pytestmark = pytest.mark.django_db

OUT_OF_RANGE = [
    ("/api/v1/surveys/", "score", "-1"),
    ("/api/v1/surveys/", "score", "32768"),
    ("/api/v1/surveys/", "score", str(2**31)),
    ("/api/v1/surveys/", "department", str(2**63)),
    ("/api/v1/surveys/", "department", "-1"),
    ("/api/v1/change-votes/", "round", "-1"),
    ("/api/v1/change-votes/", "round", "32768"),
    ("/api/v1/change-votes/", "round", str(2**31)),
    ("/api/v1/change-votes/", "change", str(2**63)),
    ("/api/v1/incidents/", "team", str(2**63)),
    ("/api/v1/sla/breaches/", "department", str(2**63)),
]


def _check(api_as: Any, supervisor: Any, path: str, name: str, value: str) -> None:
    body = assert_error(api_as(supervisor).get(path, {name: value}), 400)
    assert name in str(body["detail"]), body


@pytest.mark.parametrize(("path", "name", "value"), OUT_OF_RANGE)
def test_a_number_the_column_cannot_hold_is_a_400_naming_the_parameter(
        api_as: Any, supervisor: Any, path: str, name: str, value: str) -> None:
    _check(api_as, supervisor, path, name, value)


@pytest.mark.postgres
@pytest.mark.parametrize(("path", "name", "value"), OUT_OF_RANGE)
def test_a_number_the_column_cannot_hold_is_a_400_on_postgresql(
        api_as: Any, supervisor: Any, path: str, name: str, value: str) -> None:
    require_postgres()
    _check(api_as, supervisor, path, name, value)


def test_numbers_the_column_holds_still_filter(api_as: Any, supervisor: Any) -> None:
    department = DepartmentFactory()
    client = api_as(supervisor)
    assert client.get("/api/v1/surveys/", {"score": 32767}).status_code == 200
    assert client.get("/api/v1/surveys/", {"score": 0, "department": department.pk}).json()["count"] == 0
    assert client.get("/api/v1/change-votes/", {"round": 1}).status_code == 200


def test_every_filterset_of_the_api_is_bounded() -> None:
    """Every filterset the views name derives from the kernel's, and their record filters check keys."""
    from django.urls import get_resolver

    from opscenter.core.filters import FilterBackend

    assert FilterBackend.filterset_base is ApiFilterSet
    seen = 0
    for pattern in get_resolver().url_patterns:
        for view in _views(pattern):
            filterset = getattr(view, "filterset_class", None)
            if filterset is not None:
                seen += 1
                assert issubclass(filterset, FilterSet), filterset
                for spec in filterset.base_filters.values():
                    assert spec.field_class.__name__ not in {"ModelChoiceField"} or issubclass(
                        spec.field_class, BoundedModelChoiceField), (filterset, spec)
    assert seen >= 5


def _views(pattern: Any) -> list[Any]:
    if hasattr(pattern, "url_patterns"):
        return [view for inner in pattern.url_patterns for view in _views(inner)]
    callback = pattern.callback
    return [getattr(callback, "cls", None)] if getattr(callback, "cls", None) else []


@pytest.mark.parametrize("key", ["%00", "a%00b", "x" * 65, "a b", "ключ"])
def test_a_feed_address_with_a_malformed_key_is_404(client: Any, key: str) -> None:
    assert client.get(f"/changes/calendar/feed/{key}.ics").status_code == 404


