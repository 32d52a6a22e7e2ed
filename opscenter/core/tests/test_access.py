"""A user's roles, teams and permissions kept in the cache between requests (opscenter.core.access): what
the cache answers is what Django's ModelBackend and the database answer, and a change of role, permission
or team is seen on the very next request."""

import pytest
from django.contrib.auth.backends import ModelBackend
from django.contrib.auth.models import Group, Permission
from django.core.cache import cache
from django.db import connection
from django.test import override_settings
from django.test.utils import CaptureQueriesContext

from opscenter.core import roles
from opscenter.core.access import _read, user_access
from opscenter.core.models import User
from opscenter.core.tests.factories import TeamFactory, UserFactory

pytestmark = [pytest.mark.django_db, pytest.mark.urls("opscenter.urls")]

ME = "/api/v1/me/"


@pytest.fixture(autouse=True)
def cached():  # noqa: ANN201
    cache.clear()
    with override_settings(ACCESS_CACHE_SECONDS=600):
        yield
    cache.clear()


def fresh(user: User) -> User:
    """The user as the next request loads it (no memo of this one)."""
    return User.objects.get(pk=user.pk)


def test_the_cached_answer_is_djangos_own() -> None:
    user = UserFactory(roles=[roles.SUPERVISOR, roles.CHANGE_APPROVER])
    team = TeamFactory(kind="network")
    team.members.add(user)
    user.user_permissions.add(Permission.objects.get(codename="view_group"))
    user_access(fresh(user))  # fills the cache
    again = fresh(user)
    with CaptureQueriesContext(connection) as queries:
        access = user_access(again)
        perms = again.get_all_permissions()
        assert again.has_perm("core.change_service")
        assert not again.has_perm("core.delete_notification")
    assert len(queries) == 0
    plain = fresh(user)
    assert perms == ModelBackend().get_all_permissions(plain)
    assert access.roles == {roles.SUPERVISOR, roles.CHANGE_APPROVER}
    assert access.teams == ((team.pk, "network"),)
    assert access == _read(plain)


def test_a_role_taken_away_is_gone_on_the_next_request(api_as) -> None:
    user = UserFactory(roles=[roles.SUPERVISOR])
    client = api_as(user)
    assert client.get(ME).json()["roles"] == [roles.SUPERVISOR]
    assert client.get("/api/v1/departments/").status_code == 200
    user.groups.remove(Group.objects.get(name=roles.SUPERVISOR))
    user.groups.add(Group.objects.get(name=roles.AUDITOR))
    assert client.get(ME).json()["roles"] == [roles.AUDITOR]
    assert client.post("/api/v1/departments/", {"code": "X", "name": "X"}, format="json").status_code == 403


def test_a_permission_taken_from_a_role_is_gone_on_the_next_request(api_as) -> None:
    user = UserFactory(roles=[roles.SUPERVISOR])
    assert fresh(user).has_perm("core.add_department")
    Group.objects.get(name=roles.SUPERVISOR).permissions.remove(Permission.objects.get(codename="add_department"))
    assert not fresh(user).has_perm("core.add_department")
    assert api_as(user).post("/api/v1/departments/", {"code": "X", "name": "X"}, format="json").status_code == 403


def test_team_membership_and_kind_are_seen_at_once() -> None:
    user = UserFactory(roles=[roles.SYSTEM_ENGINEER])
    assert roles.user_team_ids(fresh(user)) == set()
    team = TeamFactory(kind="system")
    team.members.add(user)
    assert roles.user_team_ids(fresh(user)) == {team.pk}
    team.kind = "security"
    team.save()
    assert roles.user_team_kinds(fresh(user)) == {"security"}
    team.members.remove(user)
    assert roles.user_team_ids(fresh(user)) == set()


def test_a_second_request_reads_no_roles_or_permissions(api_as) -> None:
    client = api_as(UserFactory(roles=[roles.DUTY_OFFICER]))
    with CaptureQueriesContext(connection) as first:
        assert client.get(ME).status_code == 200
    with CaptureQueriesContext(connection) as second:
        assert client.get(ME).status_code == 200
    assert len(second) < len(first)
    assert not any("auth_group" in q["sql"] or "auth_permission" in q["sql"] for q in second)


def test_superusers_and_inactive_users_are_answered_by_django() -> None:
    boss = UserFactory(is_superuser=True)
    assert fresh(boss).has_perm("core.delete_notification")
    gone = UserFactory(roles=[roles.SUPERVISOR], is_active=False)
    assert not fresh(gone).has_perm("core.add_department")


def test_without_the_cache_every_request_reads_what_it_needs() -> None:
    user = UserFactory(roles=[roles.DUTY_OFFICER])
    with override_settings(ACCESS_CACHE_SECONDS=0):
        again = fresh(user)
        with CaptureQueriesContext(connection) as queries:
            assert roles.user_roles(again) == {roles.DUTY_OFFICER}
            assert again.has_perm("core.view_service")
        assert len(queries) == 3  # the roles, the user's and their groups' permissions; not the teams
