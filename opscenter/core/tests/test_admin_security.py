"""The user and role admin as a supervisor uses it: people's department, teams, roles and active flag, nothing
more (no superuser or staff flag, no direct permissions, no one's password, no role's permissions); a change of
roles is written to the person's history; a superuser keeps everything."""

import re

import pytest
from django.contrib.admin.models import LogEntry
from django.contrib.auth.models import Group, Permission
from django.test import Client

from opscenter.core.demo import seed_organisation
from opscenter.core.models import Department, Team, User

pytestmark = pytest.mark.django_db

FORBIDDEN_FIELDS = ("is_superuser", "is_staff", "user_permissions", "password", "password1", "password2",
                    "usable_password")


@pytest.fixture
def demo(db) -> dict[str, User]:  # noqa: ANN001
    seed_organisation("pw")
    return {user.username: user for user in User.objects.all()}


@pytest.fixture
def boss(db) -> User:  # noqa: ANN001
    return User.objects.create_superuser("boss", "boss@example.com", "pw")


def signed_in(user: User) -> Client:
    client = Client(HTTP_ACCEPT_LANGUAGE="en")
    client.force_login(user)
    return client


def field_names(html: str) -> set[str]:
    """The names of the form's inputs (the CSRF token and the buttons left out)."""
    names = set(re.findall(r'<(?:input|select|textarea)[^>]*\sname="([^"]+)"', html))
    return names - {"csrfmiddlewaretoken", "_save", "_continue", "_addanother"}


def change_url(user: User) -> str:
    return f"/admin/core/user/{user.pk}/change/"


def user_post(user: User, **changes: object) -> dict[str, object]:
    """What the supervisor's change form posts for `user`, with `changes`."""
    data = {"first_name": user.first_name, "last_name": user.last_name, "display_name": user.display_name,
            "department": user.department_id or "", "phone": user.phone, "language": user.language,
            "groups": [g.pk for g in user.groups.all()], "teams": [t.pk for t in user.teams.all()],
            "_save": "Save"}
    if user.is_active:
        data["is_active"] = "on"
    data.update(changes)
    return {k: v for k, v in data.items() if v is not None}


# --- Supervisor: the user's change form ------------------------------------------------------------------


def test_supervisor_change_form_has_only_organisation_roles_teams_and_active(demo) -> None:  # noqa: ANN001
    page = signed_in(demo["supervisor"]).get(change_url(demo["sysadmin"]))
    assert page.status_code == 200
    html = page.content.decode()
    assert field_names(html) == {"is_active", "first_name", "last_name", "display_name", "department", "phone",
                                 "language", "groups", "teams"}
    assert "/password/" not in html  # no link to set the password


def test_supervisor_cannot_make_themselves_superuser(demo) -> None:  # noqa: ANN001
    me = demo["supervisor"]
    everything = list(Permission.objects.values_list("pk", flat=True)[:5])
    response = signed_in(me).post(change_url(me), user_post(
        me, is_superuser="on", is_staff="on", user_permissions=everything, password="pbkdf2_sha256$1$x$y",
        username="root", email="me@evil.example"))
    assert response.status_code == 302, response.content.decode()[:2000]
    me.refresh_from_db()
    assert not me.is_superuser
    assert me.user_permissions.count() == 0
    assert me.username == "supervisor" and me.email == "supervisor@example.com"
    assert me.check_password("pw")


def test_supervisor_cannot_take_away_or_give_staff_to_someone_else(demo) -> None:  # noqa: ANN001
    approver = demo["approver"]
    response = signed_in(demo["supervisor"]).post(change_url(approver), user_post(approver, is_staff=None))
    assert response.status_code == 302
    approver.refresh_from_db()
    assert approver.is_staff
    engineer = demo["sysadmin"]
    signed_in(demo["supervisor"]).post(change_url(engineer), user_post(engineer, is_staff="on",
                                                                       is_superuser="on"))
    engineer.refresh_from_db()
    assert not engineer.is_staff and not engineer.is_superuser


def test_supervisor_changes_roles_teams_department_and_active_flag(demo) -> None:  # noqa: ANN001
    engineer = demo["sysadmin"]
    finance = Department.objects.get(code="finance")
    network = Team.objects.get(code="network")
    auditor = Group.objects.get(name="auditor")
    response = signed_in(demo["supervisor"]).post(change_url(engineer), user_post(
        engineer, department=finance.pk, groups=[auditor.pk], teams=[network.pk], is_active=None))
    assert response.status_code == 302, response.content.decode()[:2000]
    engineer.refresh_from_db()
    assert engineer.department == finance
    assert list(engineer.groups.values_list("name", flat=True)) == ["auditor"]
    assert list(engineer.teams.values_list("code", flat=True)) == ["network"]
    assert not engineer.is_active


def test_supervisor_cannot_change_or_delete_a_superuser(demo, boss) -> None:  # noqa: ANN001
    client = signed_in(demo["supervisor"])
    assert client.post(change_url(boss), user_post(boss, is_active=None)).status_code == 403
    assert client.post(f"/admin/core/user/{boss.pk}/delete/", {"post": "yes"}).status_code == 403
    boss.refresh_from_db()
    assert boss.is_active


# --- Supervisor: adding a person --------------------------------------------------------------------------


def test_supervisor_add_form_has_no_password_nor_flags(demo) -> None:  # noqa: ANN001
    html = signed_in(demo["supervisor"]).get("/admin/core/user/add/").content.decode()
    assert field_names(html) == {"username", "display_name", "email", "department", "groups"}


def test_supervisor_adds_a_person_without_a_password_or_flags(demo) -> None:  # noqa: ANN001
    engineer = Group.objects.get(name="system_engineer")
    response = signed_in(demo["supervisor"]).post("/admin/core/user/add/", {
        "username": "newbie", "display_name": "新同事", "email": "newbie@example.com", "groups": [engineer.pk],
        "is_superuser": "on", "is_staff": "on", "user_permissions": [Permission.objects.first().pk],
        "password1": "Chosen-by-the-boss-1", "password2": "Chosen-by-the-boss-1", "usable_password": "true",
        "_save": "Save"})
    assert response.status_code == 302, response.content.decode()[:2000]
    newbie = User.objects.get(username="newbie")
    assert not newbie.is_superuser and not newbie.is_staff and newbie.user_permissions.count() == 0
    assert not newbie.has_usable_password()  # they set it through a reset e-mail
    assert list(newbie.groups.values_list("name", flat=True)) == ["system_engineer"]


# --- Passwords ----------------------------------------------------------------------------------------------


def test_supervisor_cannot_set_another_users_password(demo) -> None:  # noqa: ANN001
    client = signed_in(demo["supervisor"])
    url = f"/admin/core/user/{demo['sysadmin'].pk}/password/"
    assert client.get(url).status_code == 403
    response = client.post(url, {"password1": "Taken-over-123", "password2": "Taken-over-123"})
    assert response.status_code == 403
    demo["sysadmin"].refresh_from_db()
    assert demo["sysadmin"].check_password("pw")
    assert client.get(f"/admin/core/user/{demo['supervisor'].pk}/password/").status_code == 403


def test_superuser_sets_a_password(demo, boss) -> None:  # noqa: ANN001
    url = f"/admin/core/user/{demo['sysadmin'].pk}/password/"
    response = signed_in(boss).post(url, {"password1": "Fresh-start-123", "password2": "Fresh-start-123",
                                          "usable_password": "true"})
    assert response.status_code == 302, response.content.decode()[:2000]
    demo["sysadmin"].refresh_from_db()
    assert demo["sysadmin"].check_password("Fresh-start-123")


# --- Roles (groups) -----------------------------------------------------------------------------------------


def test_supervisor_reads_a_role_but_cannot_change_its_permissions_or_name(demo) -> None:  # noqa: ANN001
    role = Group.objects.get(name="department_user")
    before = set(role.permissions.values_list("pk", flat=True))
    client = signed_in(demo["supervisor"])
    page = client.get(f"/admin/auth/group/{role.pk}/change/")
    assert page.status_code == 200
    assert field_names(page.content.decode()) == set()
    response = client.post(f"/admin/auth/group/{role.pk}/change/", {
        "name": "supervisor2", "permissions": list(Permission.objects.values_list("pk", flat=True)),
        "_save": "Save"})
    assert response.status_code == 302
    role.refresh_from_db()
    assert role.name == "department_user"
    assert set(role.permissions.values_list("pk", flat=True)) == before


def test_superuser_changes_a_roles_permissions(demo, boss) -> None:  # noqa: ANN001
    role = Group.objects.get(name="department_user")
    extra = Permission.objects.get(codename="view_team")
    wanted = [*role.permissions.values_list("pk", flat=True), extra.pk]
    page = signed_in(boss).get(f"/admin/auth/group/{role.pk}/change/")
    assert {"name", "permissions"} <= field_names(page.content.decode())
    response = signed_in(boss).post(f"/admin/auth/group/{role.pk}/change/", {
        "name": "department_user", "permissions": wanted, "_save": "Save"})
    assert response.status_code == 302
    assert role.permissions.filter(pk=extra.pk).exists()


# --- The audit of a change of roles ----------------------------------------------------------------------


def test_a_supervisor_granting_themselves_a_role_is_in_the_history_others_read(demo) -> None:  # noqa: ANN001
    me = demo["supervisor"]
    roles = [g.pk for g in me.groups.all()] + [Group.objects.get(name="change_approver").pk]
    response = signed_in(me).post(change_url(me), user_post(me, groups=roles))
    assert response.status_code == 302
    entry = LogEntry.objects.get(object_id=str(me.pk), change_message__startswith="Roles")
    assert entry.user == me
    assert "Roles added: change_approver." in entry.get_change_message()
    assert "Changed by the user themselves." in entry.get_change_message()
    other = User.objects.create_user("supervisor2", password="pw", is_staff=True)
    other.groups.add(Group.objects.get(name="supervisor"))
    history = signed_in(other).get(f"/admin/core/user/{me.pk}/history/").content.decode()
    assert "Roles added: change_approver. Changed by the user themselves." in history


def test_removing_a_role_is_in_the_history(demo) -> None:  # noqa: ANN001
    engineer = demo["sysadmin"]
    signed_in(demo["supervisor"]).post(change_url(engineer), user_post(engineer, groups=[]))
    entry = LogEntry.objects.get(object_id=str(engineer.pk), change_message__startswith="Roles")
    assert entry.get_change_message() == "Roles removed: system_engineer."


# --- Superuser ------------------------------------------------------------------------------------------------


def test_superuser_sees_and_changes_everything(demo, boss) -> None:  # noqa: ANN001
    engineer = demo["sysadmin"]
    client = signed_in(boss)
    html = client.get(change_url(engineer)).content.decode()
    assert {"is_superuser", "is_staff", "user_permissions", "username", "email", "groups", "teams"} <= field_names(html)
    assert f"../../{engineer.pk}/password/" in html or "/password/" in html
    perm = Permission.objects.get(codename="view_team")
    response = client.post(change_url(engineer), {
        "username": "sysadmin", "email": "sys@example.com", "first_name": "", "last_name": "",
        "display_name": engineer.display_name, "phone": "", "language": engineer.language,
        "is_active": "on", "is_staff": "on", "is_superuser": "on", "user_permissions": [perm.pk],
        "groups": [], "teams": [], "date_joined_0": "2026-01-01", "date_joined_1": "00:00:00", "_save": "Save"})
    assert response.status_code == 302, response.content.decode()[:3000]
    engineer.refresh_from_db()
    assert engineer.is_superuser and engineer.is_staff and engineer.email == "sys@example.com"
    assert list(engineer.user_permissions.all()) == [perm]
    assert engineer.teams.count() == 0
