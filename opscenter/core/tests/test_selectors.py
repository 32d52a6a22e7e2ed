"""The kernel's reads: the timeline with its visibility rule, and read_frozen, whose rows must be the ORM's own for
every caller."""

from datetime import timedelta

import pytest
from django.utils import timezone

from opscenter.core import roles
from opscenter.core.models import User, WebhookEndpoint
from opscenter.core.outbox import active_endpoints, active_webhooks
from opscenter.core.selectors import read_frozen, role_holders, role_members, ticket_timeline

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


def test_every_frozen_read_gives_the_rows_the_orm_gives(make_user) -> None:  # noqa: ANN001
    """For each kernel builder read through read_frozen (the active webhooks, the members of each role; sla's tests
    hold its round-the-clock calendar to the same): the same rows, in the same order, with every column as the
    ORM converts it (JSON, date-times, booleans, blanks and NULLs), read afresh after a change."""
    WebhookEndpoint.objects.create(name="chat", url="https://chat.example/hook", events=["incident.urgent"],
                                   secret="s3cret")
    WebhookEndpoint.objects.create(name="all", url="https://all.example/hook", events=[])
    WebhookEndpoint.objects.create(name="off", url="https://off.example/hook", is_active=False)
    make_user(roles.SUPERVISOR, username="boss", last_login=timezone.now(), email="")
    make_user(roles.SUPERVISOR, username="gone", is_active=False)
    make_user(roles.DUTY_OFFICER, username="duty")
    callers = [(WebhookEndpoint, active_webhooks, ()),
               *((User, role_holders, (role,)) for role in (roles.SUPERVISOR, roles.DUTY_OFFICER, roles.AUDITOR))]
    for turn in range(2):
        for model, build, args in callers:
            found, expected = read_frozen(model, build, *args), list(build(*args))
            assert [fields(row) for row in found] == [fields(row) for row in expected], build.__qualname__
            assert all(row._state.adding is False for row in found)
        WebhookEndpoint.objects.filter(name="all").update(events=["incident.closed"], is_active=False)
        make_user(roles.SUPERVISOR, username=f"boss-{turn + 2}")


def test_a_frozen_read_is_keyed_by_its_builder_and_takes_the_models_own_columns() -> None:
    with pytest.raises(ValueError, match="module-level function"):
        read_frozen(User, lambda: User.objects.all())
    with pytest.raises(ValueError, match="own columns"):
        read_frozen(User, users_with_their_department)
    assert read_frozen(User, role_holders, "no such role") == []


def users_with_their_department():  # noqa: ANN201
    return User.objects.select_related("department")


def test_a_ticket_timeline_is_what_the_orm_reads_for_each_ticket(make_user, django_assert_num_queries) -> None:  # noqa: ANN001
    """The timeline of a ticket, read through the core_timeline view: every record of its own, field by field as
    the ORM reads it from its own table, and its person, in one query; a department user never reads an internal
    note (theirs or anyone's), IT staff do; nothing of another ticket."""
    from django.contrib.contenttypes.models import ContentType

    from incidents.tests.factories import IncidentFactory
    from opscenter.core.models import Attachment, Comment, FieldChange, TransitionLog
    from opscenter.core.roles import user_roles

    engineer = make_user(roles.SYSTEM_ENGINEER, username="eng")
    reporter = make_user(roles.DEPARTMENT_USER, username="reporter")
    first, second = IncidentFactory(), IncidentFactory()
    kind = ContentType.objects.get_for_model(type(first))
    at = timezone.now()
    for n, ticket in enumerate((first, second)):
        where = {"content_type": kind, "object_id": ticket.pk}
        TransitionLog.objects.create(**where, transition="report", source_state="", target_state="reported",
                                     actor=reporter, data={"channel": "phone"}, created_at=at + timedelta(seconds=n))
        TransitionLog.objects.create(**where, transition="classify", source_state="reported",
                                     target_state="classified", actor=None, created_at=at + timedelta(minutes=1))
        FieldChange.objects.create(**where, field="title", old_value="a", new_value="b", actor=engineer)
        Comment.objects.create(**where, author=engineer, body=f"internal {n}", is_internal=True)
        Comment.objects.create(**where, author=reporter, body=f"public {n}")
        Attachment.objects.create(**where, file="attachments/x.txt", original_name="x.txt", size=3,
                                  mime_type="text/plain", uploaded_by=reporter)

    def orm(ticket, internal: bool) -> list:  # noqa: ANN001
        where = {"content_type": kind, "object_id": ticket.pk}
        comments = Comment.objects.filter(**where).select_related("author")
        return [*TransitionLog.objects.filter(**where).select_related("actor"),
                *FieldChange.objects.filter(**where).select_related("actor"),
                *(comments if internal else comments.filter(is_internal=False)),
                *Attachment.objects.filter(**where).select_related("uploaded_by")]

    for ticket in (first, second):
        for user, internal in ((engineer, True), (reporter, False)):
            user_roles(user)  # read with the page's user, before its timeline
            with django_assert_num_queries(1):
                entries = ticket_timeline(ticket, user=user)
            expected = orm(ticket, internal)
            assert sorted((type(e.record).__name__, e.record.pk) for e in entries) == sorted(
                (type(r).__name__, r.pk) for r in expected)
            by_key = {(type(r).__name__, r.pk): r for r in expected}
            for entry in entries:
                record = by_key[(type(entry.record).__name__, entry.record.pk)]
                assert fields(entry.record) == fields(record)
                assert entry.record._state.adding is False and entry.record._state.db == "default"
                person = entry.actor
                assert (person is None and entry.record.transition == "classify") or fields(person) == fields(
                    User.objects.get(pk=person.pk))
            if not internal:
                assert not any(e.kind == "comment" and e.record.is_internal for e in entries)
            bodies = [e.record.body for e in entries if e.kind == "comment"]
            assert bodies == ([f"internal {ticket is second:d}", f"public {ticket is second:d}"] if internal
                              else [f"public {ticket is second:d}"])
    transitions = [e for e in ticket_timeline(first, user=engineer) if e.kind == "transition"]
    assert transitions[0].record.data == {"channel": "phone"} and transitions[0].actor.username == "reporter"
    assert transitions[0].at == at
