"""The one transition service: allowed, refused by state, by permission, by condition; logged once."""

import pytest
from django.contrib.contenttypes.models import ContentType

from opscenter.core import roles
from opscenter.core.exceptions import (
    ConditionFailed,
    InvalidInput,
    InvalidState,
    TransitionForbidden,
    UnknownTransition,
)
from opscenter.core.models import TransitionLog
from opscenter.core.models.workflow import AppendOnlyError
from opscenter.core.services import perform_transition
from opscenter.core.signals import transition_performed
from opscenter.core.tests.workflow_app.models import WorkOrder
from opscenter.core.workflow import allowed_transition_names, available_transitions

pytestmark = pytest.mark.django_db


@pytest.fixture
def owner(make_user):  # noqa: ANN001, ANN201
    return make_user(roles.DEPARTMENT_USER, username="owner")


@pytest.fixture
def order(owner) -> WorkOrder:  # noqa: ANN001
    return WorkOrder.objects.create(title="Replace toner", created_by=owner)


def logs(obj) -> list[TransitionLog]:  # noqa: ANN001
    return list(TransitionLog.objects.filter(
        content_type=ContentType.objects.get_for_model(type(obj)), object_id=obj.pk))


def test_number_is_human_and_increments_per_prefix_and_year(owner) -> None:  # noqa: ANN001
    first = WorkOrder.objects.create(title="a", created_by=owner)
    second = WorkOrder.objects.create(title="b", created_by=owner)
    year = first.created_at.astimezone().year
    assert first.number.startswith(f"WO-{year}-")
    assert int(second.number.rsplit("-", 1)[1]) == int(first.number.rsplit("-", 1)[1]) + 1


def test_allowed_transition_moves_state_and_logs_actor_time_from_to_comment(order, owner) -> None:  # noqa: ANN001
    moved = perform_transition(order, "submit", user=owner, comment="please")
    assert moved.state == "submitted"
    order.refresh_from_db()
    assert order.state == "submitted"
    [log] = logs(order)
    assert (log.transition, log.source_state, log.target_state, log.actor, log.comment) == (
        "submit", "draft", "submitted", owner, "please")
    assert log.created_at is not None


def test_refused_by_state_is_409_and_changes_nothing(order, supervisor) -> None:  # noqa: ANN001
    with pytest.raises(InvalidState) as exc:
        perform_transition(order, "approve", user=supervisor)
    assert exc.value.status_code == 409
    order.refresh_from_db()
    assert order.state == "draft" and logs(order) == []


def test_refused_by_permission_is_403(order, make_user) -> None:  # noqa: ANN001
    stranger = make_user(roles.DEPARTMENT_USER)
    with pytest.raises(TransitionForbidden) as exc:
        perform_transition(order, "submit", user=stranger)
    assert exc.value.status_code == 403
    order.refresh_from_db()
    assert order.state == "draft" and logs(order) == []


def test_refused_by_role_is_403(order, owner, make_user) -> None:  # noqa: ANN001
    perform_transition(order, "submit", user=owner)
    engineer = make_user(roles.SYSTEM_ENGINEER)
    WorkOrder.objects.filter(pk=order.pk).update(estimate_hours=2)
    with pytest.raises(TransitionForbidden):
        perform_transition(order, "approve", user=engineer)


def test_refused_by_condition_says_the_policy_reason(order, owner, supervisor) -> None:  # noqa: ANN001
    perform_transition(order, "submit", user=owner)
    with pytest.raises(ConditionFailed) as exc:
        perform_transition(order, "approve", user=supervisor)
    assert exc.value.status_code == 409
    assert "estimate is required" in str(exc.value.detail)
    order.refresh_from_db()
    assert order.state == "submitted" and len(logs(order)) == 1


def test_condition_met_allows(order, owner, supervisor) -> None:  # noqa: ANN001
    perform_transition(order, "submit", user=owner)
    WorkOrder.objects.filter(pk=order.pk).update(estimate_hours=3)
    assert perform_transition(order, "approve", user=supervisor).state == "approved"


def test_invalid_transition_data_is_400_and_rolls_back(order, owner, supervisor) -> None:  # noqa: ANN001
    perform_transition(order, "submit", user=owner)
    WorkOrder.objects.filter(pk=order.pk).update(estimate_hours=3)
    perform_transition(order, "approve", user=supervisor)
    with pytest.raises(InvalidInput) as exc:
        perform_transition(order, "finish", user=supervisor, data={"result": "  "})
    assert exc.value.detail == {"result": ["A result is required."]}
    order.refresh_from_db()
    assert order.state == "approved" and len(logs(order)) == 2


def test_unknown_transition_is_400(order, owner) -> None:  # noqa: ANN001
    for name in ("explode", "save", "_private", "delete"):
        with pytest.raises(UnknownTransition):
            perform_transition(order, name, user=owner)


def test_state_cannot_be_assigned_directly(order) -> None:  # noqa: ANN001
    with pytest.raises(AttributeError):
        order.state = "done"


def test_stale_copy_cannot_take_a_second_transition_from_the_same_state(order, owner) -> None:  # noqa: ANN001
    first = WorkOrder.objects.get(pk=order.pk)
    second = WorkOrder.objects.get(pk=order.pk)
    perform_transition(first, "submit", user=owner)
    with pytest.raises(InvalidState):
        perform_transition(second, "submit", user=owner)
    assert len(logs(order)) == 1


def test_signal_is_sent_inside_the_transaction_with_the_log(order, owner) -> None:  # noqa: ANN001
    received = []

    def receiver(sender, **kwargs) -> None:  # noqa: ANN001, ANN003
        received.append((sender, kwargs["transition"], kwargs["source"], kwargs["target"], kwargs["log"].pk))

    transition_performed.connect(receiver)
    try:
        perform_transition(order, "submit", user=owner)
    finally:
        transition_performed.disconnect(receiver)
    [log] = logs(order)
    assert received == [(WorkOrder, "submit", "draft", "submitted", log.pk)]


def test_available_transitions_per_user_with_blocked_reasons(order, owner, supervisor) -> None:  # noqa: ANN001
    assert [t.name for t in available_transitions(order, owner)] == ["submit", "cancel"]
    assert available_transitions(order, supervisor) == []
    perform_transition(order, "submit", user=owner)
    order.refresh_from_db()
    [approve] = available_transitions(order, supervisor)
    assert approve.name == "approve" and not approve.allowed and "estimate" in approve.reason


def test_allowed_transition_names_are_the_available_ones_not_blocked(order, owner, supervisor) -> None:  # noqa: ANN001
    assert allowed_transition_names(order, owner) == ["submit", "cancel"]
    assert allowed_transition_names(order, supervisor) == []
    perform_transition(order, "submit", user=owner)
    order.refresh_from_db()
    assert allowed_transition_names(order, supervisor) == []  # approve is blocked: no estimate yet
    order.estimate_hours = 5
    assert allowed_transition_names(order, supervisor) == ["approve"]
    for user in (owner, supervisor):
        assert allowed_transition_names(order, user) == [
            t.name for t in available_transitions(order, user) if t.allowed]


def test_transition_log_is_append_only(order, owner) -> None:  # noqa: ANN001
    perform_transition(order, "submit", user=owner)
    [log] = logs(order)
    log.comment = "rewritten"
    with pytest.raises(AppendOnlyError):
        log.save()
    with pytest.raises(AppendOnlyError):
        log.delete()
    with pytest.raises(AppendOnlyError):
        TransitionLog.objects.filter(pk=log.pk).update(comment="x")
    with pytest.raises(AppendOnlyError):
        TransitionLog.objects.filter(pk=log.pk).delete()


def test_comments_and_files_only_on_open_tickets_and_not_from_auditors(order, owner, make_user) -> None:  # noqa: ANN001
    from django.core.files.uploadedfile import SimpleUploadedFile

    from opscenter.core.exceptions import ReadOnlyRecord
    from opscenter.core.models import Comment
    from opscenter.core.services import attachment_add, comment_add

    comment_add(order, user=owner, body="first")
    auditor = make_user(roles.AUDITOR)
    with pytest.raises(TransitionForbidden):
        comment_add(order, user=auditor, body="audit note")
    perform_transition(order, "cancel", user=owner)
    order.refresh_from_db()
    with pytest.raises(ReadOnlyRecord):
        comment_add(order, user=owner, body="too late")
    with pytest.raises(ReadOnlyRecord):
        attachment_add(order, user=owner, upload=SimpleUploadedFile("a.txt", b"x"))
    assert [c.body for c in Comment.objects.all()] == ["first"]


@pytest.mark.parametrize(("name", "content", "accepted"), [
    ("notes.txt", "磁碟已滿 disk full\n".encode(), True),
    ("shot.png", b"\x89PNG\r\n\x1a\n" + b"\x00" * 20, True),
    ("shot.png", b"GIF89a not a png", False),
    ("report.pdf", b"%PDF-1.7\n...", True),
    ("report.pdf", b"MZ\x90\x00 an executable", False),
    ("notes.txt", b"MZ\x90\x00 an executable", False),
    ("run.log", b"#!/bin/sh\nrm -rf /\n", False),
    ("data.csv", b"a,b\x00\x01\x02", False),
    ("sheet.xlsx", b"PK\x03\x04rest", True),
])
def test_attachments_are_type_checked_by_content(order, owner, name, content, accepted) -> None:  # noqa: ANN001
    from django.core.files.uploadedfile import SimpleUploadedFile

    from opscenter.core.models import Attachment
    from opscenter.core.services import attachment_add

    upload = SimpleUploadedFile(name, content)
    if accepted:
        assert attachment_add(order, user=owner, upload=upload).original_name == name
    else:
        with pytest.raises(InvalidInput):
            attachment_add(order, user=owner, upload=upload)
        assert not Attachment.objects.exists()


def test_a_condition_may_explain_why_this_row_fails_it(order, owner, supervisor, monkeypatch) -> None:  # noqa: ANN001
    """`condition(reason, explain=…)`: the refusal (409) and the blocked transition's reason say the row's own
    explanation; an empty explanation falls back to the reason."""
    from opscenter.core.exceptions import ConditionFailed
    from opscenter.core.tests.workflow_app.models import has_estimate
    from opscenter.core.workflow import condition

    perform_transition(order, "submit", user=owner)
    order.refresh_from_db()
    monkeypatch.setattr(has_estimate, "explain", lambda row: f"{row.number} has no estimate of hours yet.",
                        raising=False)
    with pytest.raises(ConditionFailed) as refused:
        perform_transition(order, "approve", user=supervisor)
    assert str(refused.value.detail) == f"{order.number} has no estimate of hours yet."
    [approve] = available_transitions(order, supervisor)
    assert approve.reason == f"{order.number} has no estimate of hours yet."
    monkeypatch.setattr(has_estimate, "explain", lambda row: "")
    assert "estimate is required" in available_transitions(order, supervisor)[0].reason
    marked = condition("The rule.", explain=lambda row: "This row.")(lambda row: False)
    assert (marked.reason, marked.explain(None)) == ("The rule.", "This row.")
