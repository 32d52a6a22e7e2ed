"""Who is signed in, as a person notices it: Django's sessions, read through the cache and kept in the database,
decide; a changed password, an inactive or a deleted user, signing out and expiry end a session."""

from datetime import timedelta

import pytest
from django.conf import settings
from django.contrib.sessions.models import Session
from django.core.cache import cache
from django.core.management import call_command
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from opscenter.core import roles
from opscenter.core.models import User

pytestmark = pytest.mark.django_db
HOME = "/notifications/"


def signed_in(user: User) -> Client:
    client = Client()
    client.force_login(user)
    return client


def who(client: Client) -> str | None:
    """The username the page shows as signed in (None: sent to the sign-in page)."""
    response = client.get(HOME)
    if response.status_code == 302:
        return None
    assert response.status_code == 200
    return response.wsgi_request.user.username


def test_signing_in_with_a_password_and_out_again(make_user) -> None:  # noqa: ANN001
    make_user(roles.SUPERVISOR, username="sup")
    client = Client()
    assert who(client) is None
    response = client.post("/accounts/login/", {"username": "sup", "password": "pw"})
    assert response.status_code == 302
    assert who(client) == "sup"
    key = client.cookies[settings.SESSION_COOKIE_NAME].value
    client.post("/accounts/logout/")
    assert who(client) is None
    same_cookie = Client()  # the old cookie, from another tab or a copy: ended too
    same_cookie.cookies[settings.SESSION_COOKIE_NAME] = key
    assert who(same_cookie) is None


def test_a_page_finds_its_session_in_the_cache_and_the_session_outlives_the_cache(make_user) -> None:  # noqa: ANN001
    client = signed_in(make_user(roles.SUPERVISOR, username="sup"))
    with CaptureQueriesContext(connection) as queries:
        assert who(client) == "sup"
    assert not [q["sql"] for q in queries.captured_queries if Session._meta.db_table in q["sql"]]
    cache.clear()  # a restarted cache server: nobody is signed out
    assert who(client) == "sup"


def test_a_new_sign_in_on_the_same_browser_is_the_new_user(make_user) -> None:  # noqa: ANN001
    client = signed_in(make_user(roles.SUPERVISOR, username="sup"))
    client.force_login(make_user(roles.DUTY_OFFICER, username="duty"))
    assert who(client) == "duty"


def test_a_changed_password_signs_the_session_out(make_user) -> None:  # noqa: ANN001
    me = make_user(roles.SUPERVISOR, username="sup")
    client = signed_in(me)
    assert who(client) == "sup"
    me.set_password("a new secret 2026")
    me.save()
    assert who(client) is None


def test_an_inactive_or_deleted_user_is_signed_out(make_user) -> None:  # noqa: ANN001
    me = make_user(roles.SUPERVISOR, username="sup")
    client = signed_in(me)
    User.objects.filter(pk=me.pk).update(is_active=False)
    assert who(client) is None
    gone = make_user(roles.DUTY_OFFICER, username="gone")
    client = signed_in(gone)
    gone.delete()
    assert who(client) is None


def test_an_expired_session_signs_nobody_in_and_clearsessions_removes_it(make_user) -> None:  # noqa: ANN001
    me = make_user(roles.SUPERVISOR, username="sup")
    client = signed_in(me)
    Session.objects.update(expire_date=timezone.now() - timedelta(seconds=1))
    cache.clear()  # the cache keeps a session no longer than its age: as when that has passed
    assert who(client) is None
    signed_in(me)
    call_command("clearsessions")
    assert Session.objects.count() == 1 and Session.objects.get().expire_date > timezone.now()
