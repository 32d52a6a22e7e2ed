"""Statements compiled once and reused (read_frozen): the same rows, converted as the ORM converts them, read
afresh on every call."""

from datetime import timedelta

import pytest
from django.utils import timezone

from opscenter.core import roles
from opscenter.core.models import User, WebhookEndpoint
from opscenter.core.outbox import active_endpoints
from opscenter.core.selectors import read_frozen, role_members

pytestmark = pytest.mark.django_db


def fields(row) -> dict:  # noqa: ANN001
    return {f.attname: getattr(row, f.attname) for f in type(row)._meta.concrete_fields}


def test_role_members_are_the_active_holders_as_the_orm_reads_them(make_user, django_assert_num_queries) -> None:  # noqa: ANN001
    first = make_user(roles.DUTY_OFFICER, username="duty-b", last_login=timezone.now() - timedelta(days=2))
    make_user(roles.DUTY_OFFICER, username="duty-gone", is_active=False)
    make_user(roles.SUPERVISOR, username="sup")
    with django_assert_num_queries(1):
        found = role_members(roles.DUTY_OFFICER)
    expected = list(User.objects.filter(groups__name=roles.DUTY_OFFICER, is_active=True))
    assert [fields(u) for u in found] == [fields(u) for u in expected] and [u.pk for u in found] == [first.pk]
    assert found[0]._state.adding is False and found[0]._state.db == "default"
    make_user(roles.DUTY_OFFICER, username="duty-a")
    with django_assert_num_queries(1):  # the statement is reused; the rows are read afresh
        assert [u.username for u in role_members(roles.DUTY_OFFICER)] == ["duty-a", "duty-b"]
    assert [u.username for u in role_members(roles.SUPERVISOR)] == ["sup"]


def test_active_webhooks_keep_their_json_as_the_orm_reads_it() -> None:
    WebhookEndpoint.objects.create(name="chat", url="https://chat.example/hook", events=["incident.urgent", "x"])
    WebhookEndpoint.objects.create(name="off", url="https://off.example/hook", is_active=False)
    found = active_endpoints()
    assert [fields(w) for w in found] == [fields(w) for w in WebhookEndpoint.objects.filter(is_active=True)]
    assert found[0].events == ["incident.urgent", "x"] and found[0].wants("incident.urgent")
    assert not found[0].wants("incident.closed")


def test_a_frozen_read_takes_only_the_models_own_columns() -> None:
    with pytest.raises(ValueError, match="own columns"):
        read_frozen("users with department", User, lambda: User.objects.select_related("department"))
