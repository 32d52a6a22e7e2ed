"""API tokens as a client and their owner notice them: only a hash is stored, a token expires after
API_TOKEN_TTL_HOURS, a changed password ends every token of the user, the owner lists and revokes theirs (API and the
preferences page) and nobody else's; the old plain-text tokens are gone."""

from datetime import timedelta

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.utils import timezone
from knox.models import AuthToken
from rest_framework.test import APIClient

from conftest import assert_error
from opscenter.core import roles
from opscenter.core.tokens import api_token_create

pytestmark = pytest.mark.django_db

TOKEN = "/api/v1/auth/token/"
TOKENS = "/api/v1/auth/tokens/"
ME = "/api/v1/me/"


def issue(username: str = "lin", password: str = "pw") -> dict:
    response = APIClient().post(TOKEN, {"username": username, "password": password}, format="json")
    assert response.status_code == 200, response.content
    return response.json()


def with_key(key: str) -> APIClient:
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {key}")
    return client


def works(key: str) -> bool:
    response = with_key(key).get(ME)
    if response.status_code == 401:
        assert_error(response, 401, "authentication_failed")
        return False
    assert response.status_code == 200
    return True


@pytest.fixture
def lin(make_user):  # noqa: ANN001, ANN201
    return make_user(roles.SYSTEM_ENGINEER, username="lin")


# --- Issued, stored hashed, expiring -------------------------------------------------------------------------


def test_a_token_is_issued_with_its_expiry_and_identifies_its_user(settings, lin) -> None:  # noqa: ANN001
    settings.REST_KNOX = {**settings.REST_KNOX, "TOKEN_TTL": timedelta(hours=48)}
    before = timezone.now()
    body = issue()
    assert set(body) == {"token", "key", "expiry"}
    assert body["key"] == body["token"][:15]
    expiry = AuthToken.objects.get().expiry
    assert before + timedelta(hours=48) <= expiry <= timezone.now() + timedelta(hours=48)
    assert with_key(body["token"]).get(ME).json()["username"] == "lin"


def test_the_database_never_holds_the_key(lin) -> None:  # noqa: ANN001
    key = issue()["token"]
    row = AuthToken.objects.values().get()
    assert key not in " ".join(str(value) for value in row.values())
    assert row["token_key"] == key[:15] and len(key) == 64
    with connection.cursor() as cursor:  # nor any column of the table, read without the ORM
        cursor.execute(f"SELECT * FROM {AuthToken._meta.db_table}")  # noqa: S608
        assert key not in " ".join(str(value) for value in cursor.fetchone())


def test_a_token_expires_after_its_lifetime(settings, lin, monkeypatch) -> None:  # noqa: ANN001
    settings.REST_KNOX = {**settings.REST_KNOX, "TOKEN_TTL": timedelta(hours=24)}
    key = issue()["token"]
    issued = timezone.now()
    monkeypatch.setattr(timezone, "now", lambda: issued + timedelta(hours=23, minutes=59))
    assert works(key)
    monkeypatch.setattr(timezone, "now", lambda: issued + timedelta(hours=24, minutes=1))
    response = with_key(key).get(ME)
    assert assert_error(response, 401, "authentication_failed")["detail"] == "The token has expired. Ask for a new one."
    assert not AuthToken.objects.exists()  # deleted when presented


def test_expired_tokens_are_deleted_when_their_user_asks_for_a_new_one(lin, monkeypatch) -> None:  # noqa: ANN001
    issue()
    later = timezone.now() + timedelta(days=400)
    monkeypatch.setattr(timezone, "now", lambda: later)
    fresh = issue()["token"]
    assert list(AuthToken.objects.values_list("token_key", flat=True)) == [fresh[:15]]


@pytest.mark.parametrize("header", [
    "Token 0123456789abcdef0123456789abcdef01234567",  # a plain-text token of before: no longer valid
    "Token " + "f" * 64,
    "Token \xe9\xe9\xe9",  # not UTF-8 once decoded from the header's Latin-1
    "Token",
    "Token a b",
])
def test_a_wrong_token_is_401_json(api, header) -> None:  # noqa: ANN001
    assert_error(api.get(ME, HTTP_AUTHORIZATION=header), 401, "authentication_failed")


def test_a_token_authenticates_in_one_query(lin) -> None:  # noqa: ANN001
    client = with_key(issue()["token"])
    with CaptureQueriesContext(connection) as queries:
        client.get(ME)
    token_queries = [q["sql"] for q in queries.captured_queries if AuthToken._meta.db_table in q["sql"]]
    assert len(token_queries) == 1, token_queries


def test_a_wrong_password_issues_nothing_and_changes_nothing(api, lin) -> None:  # noqa: ANN001
    assert_error(api.post(TOKEN, {"username": "lin", "password": "nope"}, format="json"), 400, "invalid")
    assert_error(api.post(TOKEN, {"username": "lin"}, format="json"), 400, "invalid")
    assert_error(api.post(TOKEN, {"username": "lin", "password": "pw", "expiry": "2099-01-01"}, format="json"),
                 400, "invalid")
    assert not AuthToken.objects.exists()


def test_an_inactive_user_gets_no_token_and_theirs_stop(api, lin) -> None:  # noqa: ANN001
    key = issue()["token"]
    lin.is_active = False
    lin.save()
    assert not works(key)
    assert_error(api.post(TOKEN, {"username": "lin", "password": "pw"}, format="json"), 400, "invalid")


# --- A changed password ends them ----------------------------------------------------------------------------


def test_a_changed_password_revokes_every_token_of_the_user(lin, make_user) -> None:  # noqa: ANN001
    make_user(roles.SYSTEM_ENGINEER, username="mei")
    first, second, others = issue()["token"], issue()["token"], issue("mei")["token"]
    lin.set_password("a new secret 2026")
    lin.save()
    assert not works(first) and not works(second)
    assert works(others)
    assert works(issue(password="a new secret 2026")["token"])


def test_a_password_set_by_a_superuser_in_the_admin_revokes_them(lin, make_user) -> None:  # noqa: ANN001
    key = issue()["token"]
    admin = Client()
    admin.force_login(make_user(username="root", is_staff=True, is_superuser=True))
    response = admin.post(f"/admin/core/user/{lin.pk}/password/", {
        "password1": "another secret 2026", "password2": "another secret 2026", "usable_password": "true"})
    assert response.status_code == 302
    assert not works(key)


def test_a_password_made_unusable_ends_them(lin) -> None:  # noqa: ANN001
    key = issue()["token"]
    lin.set_unusable_password()
    lin.save()
    assert not works(key)


def test_a_stronger_hash_of_the_same_password_keeps_them(settings, lin) -> None:  # noqa: ANN001
    """Django re-hashes a password at sign-in when the preferred hasher changes: no change of the password."""
    key = issue()["token"]
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.ScryptPasswordHasher",
                                 "django.contrib.auth.hashers.MD5PasswordHasher"]
    issue()  # signs in with the password: its hash is upgraded
    lin.refresh_from_db()
    assert lin.password.startswith("scrypt$")
    assert works(key)


# --- The owner lists and revokes -----------------------------------------------------------------------------


def test_the_owner_lists_their_valid_tokens_without_the_keys(lin, make_user) -> None:  # noqa: ANN001
    make_user(roles.SYSTEM_ENGINEER, username="mei")
    first, second = issue()["token"], issue()["token"]
    issue("mei")
    rows = with_key(second).get(TOKENS).json()["results"]
    assert [(row["key"], row["current"]) for row in rows] == [(second[:15], True), (first[:15], False)]
    assert set(rows[0]) == {"key", "created", "expiry", "current"}
    assert first not in str(rows) and second not in str(rows)


def test_the_owner_revokes_one_token_and_not_someone_elses(lin, make_user) -> None:  # noqa: ANN001
    make_user(roles.SYSTEM_ENGINEER, username="mei")
    first, second, others = issue()["token"], issue()["token"], issue("mei")["token"]
    client = with_key(second)
    assert client.delete(f"{TOKENS}{first[:15]}/").status_code == 204
    assert not works(first) and works(second)
    assert_error(client.delete(f"{TOKENS}{others[:15]}/"), 404, "not_found")
    assert_error(client.delete(f"{TOKENS}{others}/"), 404, "not_found")
    assert works(others)


def test_logout_revokes_the_token_in_use_and_logoutall_every_one(lin) -> None:  # noqa: ANN001
    first, second, third = issue()["token"], issue()["token"], issue()["token"]
    assert with_key(first).post("/api/v1/auth/logout/").status_code == 204
    assert not works(first) and works(second) and works(third)
    assert with_key(second).post("/api/v1/auth/logoutall/").status_code == 204
    assert not works(second) and not works(third)


def test_logout_needs_a_token(api, lin) -> None:  # noqa: ANN001
    assert_error(api.post("/api/v1/auth/logout/"), 401, "not_authenticated")
    assert_error(api.post("/api/v1/auth/logoutall/"), 401, "not_authenticated")


def test_the_token_list_reads_the_same_queries_whatever_the_number_of_tokens(lin) -> None:  # noqa: ANN001
    client = with_key(issue()["token"])

    def count() -> int:
        with CaptureQueriesContext(connection) as queries:
            assert client.get(TOKENS).status_code == 200
        return len(queries)

    few = count()
    for _n in range(5):
        api_token_create(user=lin)
    # Token with its user; the page's count and its rows.
    assert few == count() == 3


# --- The preferences page ------------------------------------------------------------------------------------


def test_the_preferences_page_lists_the_tokens_and_revokes_one_or_all(lin, make_user) -> None:  # noqa: ANN001
    make_user(roles.SYSTEM_ENGINEER, username="mei")
    first, second = issue()["token"], issue()["token"]
    others = issue("mei")["token"]
    page = Client()
    page.force_login(lin)
    body = page.get("/preferences/").content.decode()
    assert body.count('class="api-token"') == 2
    assert first[:15] in body and first not in body and others[:15] not in body

    response = page.post("/preferences/api-tokens/revoke/", {"key": first[:15]}, follow=True)
    assert "The API token is revoked" in response.content.decode()
    assert not works(first) and works(second)

    response = page.post("/preferences/api-tokens/revoke/", {"key": others[:15]}, follow=True)
    assert "You have no token with this key." in response.content.decode()
    assert works(others)

    response = page.post("/preferences/api-tokens/revoke/", {"all": "1"}, follow=True)
    assert "1 API token revoked." in response.content.decode()
    assert not works(second) and works(others)
    assert 'id="api-tokens-none"' in response.content.decode()


def test_revoking_on_the_page_needs_a_post_by_the_signed_in_owner(lin) -> None:  # noqa: ANN001
    key = issue()["token"]
    assert Client().post("/preferences/api-tokens/revoke/", {"all": "1"}).status_code == 302  # to the sign-in page
    page = Client()
    page.force_login(lin)
    assert page.get("/preferences/api-tokens/revoke/").status_code == 405
    assert works(key)


def test_the_preferences_page_reads_the_same_queries_whatever_the_number_of_tokens(lin) -> None:  # noqa: ANN001
    page = Client()
    page.force_login(lin)

    def count() -> int:
        with CaptureQueriesContext(connection) as queries:
            assert page.get("/preferences/").status_code == 200
        return len(queries)

    none = count()
    api_token_create(user=lin)
    one = count()
    for _n in range(5):
        api_token_create(user=lin)
    # The user; the layout's unread count and roles; the tokens.
    assert none == one == count() == 4


# --- The admin -------------------------------------------------------------------------------------------------


def test_a_superuser_revokes_anyones_token_in_the_admin_but_makes_none(lin, make_user) -> None:  # noqa: ANN001
    key = issue()["token"]
    admin = Client()
    admin.force_login(make_user(username="root", is_staff=True, is_superuser=True))
    listing = admin.get("/admin/knox/authtoken/").content.decode()
    assert key[:15] in listing and key not in listing
    assert admin.get("/admin/knox/authtoken/add/").status_code == 403
    digest = AuthToken.objects.get().digest
    assert admin.post(f"/admin/knox/authtoken/{digest}/delete/", {"post": "yes"}).status_code == 302
    assert not works(key)


def test_a_supervisor_does_not_see_other_peoples_tokens_in_the_admin(lin, make_user) -> None:  # noqa: ANN001
    issue()
    admin = Client()
    admin.force_login(make_user(roles.SUPERVISOR, username="boss", is_staff=True))
    assert admin.get("/admin/knox/authtoken/").status_code == 403


def test_a_token_without_an_expiry_is_refused(lin) -> None:  # noqa: ANN001
    token, key = api_token_create(user=lin)
    AuthToken.objects.filter(pk=token.pk).update(expiry=None)  # made outside the endpoint: every token expires
    assert not works(key)
