"""Sessions kept with their user: a page reads both with one statement, and Django's rules still decide who
is signed in (the session hash, inactive and deleted users, expiry)."""

from datetime import timedelta

import pytest
from django.contrib.auth import BACKEND_SESSION_KEY, HASH_SESSION_KEY, SESSION_KEY
from django.core.management import call_command
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from opscenter.core import roles
from opscenter.core.models import Session, User

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


def test_signing_in_keeps_the_user_on_the_session_row(make_user) -> None:  # noqa: ANN001
    me = make_user(roles.SUPERVISOR, username="sup")
    client = signed_in(me)
    assert Session.objects.get(session_key=client.session.session_key).user_id == me.pk
    other = make_user(roles.DUTY_OFFICER, username="duty")
    client.force_login(other)  # a new sign-in on the same browser: a new key, the new user
    assert Session.objects.get(session_key=client.session.session_key).user_id == other.pk
    assert who(client) == "duty"


def test_a_page_reads_its_session_and_user_with_one_statement(make_user) -> None:  # noqa: ANN001
    me = make_user(roles.SUPERVISOR, username="sup")
    client = signed_in(me)
    with CaptureQueriesContext(connection) as queries:
        assert who(client) == "sup"
    user_table, session_table = User._meta.db_table, Session._meta.db_table
    reading_users = [q["sql"] for q in queries.captured_queries if f'"{user_table}"' in q["sql"]]
    assert len(reading_users) == 1 and f'"{session_table}"' in reading_users[0], reading_users


def test_the_user_read_with_the_session_is_the_user_the_orm_reads(make_user) -> None:  # noqa: ANN001
    me = make_user(roles.SUPERVISOR, username="sup", last_login=timezone.now() - timedelta(days=3))
    response = signed_in(me).get(HOME)
    loaded = response.wsgi_request.user
    fresh = User.objects.get(pk=me.pk)
    for field in User._meta.concrete_fields:
        assert getattr(loaded, field.attname) == getattr(fresh, field.attname), field.name
    assert loaded._state.adding is False and loaded._state.db == "default"


def test_a_changed_password_signs_the_session_out(make_user) -> None:  # noqa: ANN001
    me = make_user(roles.SUPERVISOR, username="sup")
    client = signed_in(me)
    assert who(client) == "sup"
    me.set_password("a new secret 2026")
    me.save()
    assert who(client) is None
    assert not Session.objects.filter(user=me).exists()  # flushed, as Django does


def test_an_inactive_or_deleted_user_is_signed_out(make_user) -> None:  # noqa: ANN001
    me = make_user(roles.SUPERVISOR, username="sup")
    client = signed_in(me)
    User.objects.filter(pk=me.pk).update(is_active=False)
    assert who(client) is None
    gone = make_user(roles.DUTY_OFFICER, username="gone")
    client = signed_in(gone)
    key = client.session.session_key
    gone.delete()
    assert not Session.objects.filter(session_key=key).exists()  # the sessions go with the user
    assert who(client) is None


def test_the_session_data_decides_who_is_signed_in_not_the_column(make_user) -> None:  # noqa: ANN001
    me = make_user(roles.SUPERVISOR, username="sup")
    other = make_user(roles.DUTY_OFFICER, username="duty")
    client = signed_in(me)
    Session.objects.filter(session_key=client.session.session_key).update(user=other)
    assert who(client) == "sup"  # the joined user is not the session's: the session's own user is read


def test_an_expired_session_signs_nobody_in_and_clearsessions_removes_it(make_user) -> None:  # noqa: ANN001
    me = make_user(roles.SUPERVISOR, username="sup")
    client = signed_in(me)
    Session.objects.update(expire_date=timezone.now() - timedelta(seconds=1))
    assert who(client) is None
    signed_in(me)
    call_command("clearsessions")
    assert Session.objects.count() == 1 and Session.objects.get().expire_date > timezone.now()


def test_a_session_without_a_user_still_keeps_its_data(make_user) -> None:  # noqa: ANN001
    from importlib import import_module

    from django.conf import settings

    store = import_module(settings.SESSION_ENGINE).SessionStore()
    store["language"] = "zh-hant"
    store.create()
    assert Session.objects.get(session_key=store.session_key).user_id is None
    again = import_module(settings.SESSION_ENGINE).SessionStore(session_key=store.session_key)
    assert again["language"] == "zh-hant" and again.user is None


def test_the_upgrade_carries_djangos_sessions_over_with_their_users(make_user) -> None:  # noqa: ANN001
    import importlib

    from django.apps import apps
    from django.conf import settings
    from django.contrib.sessions.backends.db import SessionStore as DjangoStore

    me = make_user(roles.SUPERVISOR, username="sup")
    signed, anonymous, expired = DjangoStore(), DjangoStore(), DjangoStore()
    signed.update({SESSION_KEY: str(me.pk), BACKEND_SESSION_KEY: settings.AUTHENTICATION_BACKENDS[0],
                   HASH_SESSION_KEY: me.get_session_auth_hash()})
    anonymous["language"] = "en"
    expired[SESSION_KEY] = str(me.pk)
    expired.set_expiry(-10)
    for store in (signed, anonymous, expired):
        store.create()
    migration = importlib.import_module("opscenter.core.migrations.0004_session")
    migration.keep_signed_in(apps, None)
    carried = {row.session_key: row for row in Session.objects.all()}
    assert set(carried) == {signed.session_key, anonymous.session_key}
    assert carried[signed.session_key].user_id == me.pk and carried[anonymous.session_key].user_id is None
    client = Client()
    client.cookies[settings.SESSION_COOKIE_NAME] = signed.session_key
    assert who(client) == "sup"  # still signed in after the upgrade
    importlib.import_module("opscenter.core.migrations.0006_clear_django_sessions").clear_copied_sessions(apps, None)
    assert not apps.get_model("sessions", "Session").objects.exists()  # the copies left behind are gone
    assert who(client) == "sup"


@pytest.mark.django_db(transaction=True)
def test_a_session_written_after_its_user_was_deleted_is_kept_and_signs_nobody_in(make_user) -> None:  # noqa: ANN001
    """A request still running for a user deleted meanwhile (signing in, say) writes its session at the end: the
    write succeeds (no error page, no endless retry for a new key) and the session signs nobody in."""
    from django.conf import settings

    from opscenter.core.sessions import SessionStore

    gone = make_user(roles.DUTY_OFFICER, username="gone")
    store = SessionStore()
    store.update({SESSION_KEY: str(gone.pk), BACKEND_SESSION_KEY: settings.AUTHENTICATION_BACKENDS[0],
                  HASH_SESSION_KEY: gone.get_session_auth_hash()})
    pk = gone.pk
    gone.delete()
    store.create()
    assert Session.objects.get(session_key=store.session_key).user_id == pk
    store["seen"] = True
    store.save()
    client = Client()
    client.cookies[settings.SESSION_COOKIE_NAME] = store.session_key
    assert who(client) is None
