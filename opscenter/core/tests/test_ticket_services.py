"""The kernel's ticket services: create and update (many-to-many fields included) with their signals and
timeline rows, a comment a transition declares required, and the API transition action's one hook."""

from typing import Any

import pytest
from django.contrib.contenttypes.models import ContentType

from conftest import assert_error
from opscenter.core import roles
from opscenter.core.api.tickets import TransitionActionMixin
from opscenter.core.exceptions import ConcurrentChange, InvalidInput
from opscenter.core.models import FieldChange, TransitionLog
from opscenter.core.services import perform_transition, ticket_create, ticket_update
from opscenter.core.signals import ticket_created, ticket_updated
from opscenter.core.tests.factories import ServiceFactory
from opscenter.core.tests.workflow_app.api import WorkOrderViewSet
from opscenter.core.tests.workflow_app.models import WorkOrder

pytestmark = pytest.mark.django_db


@pytest.fixture
def owner(make_user):  # noqa: ANN001, ANN201
    return make_user(roles.DEPARTMENT_USER, username="owner")


@pytest.fixture
def order(owner) -> WorkOrder:  # noqa: ANN001
    return WorkOrder.objects.create(title="Replace toner", created_by=owner)


@pytest.fixture
def sent() -> Any:
    """The ticket_created and ticket_updated signals received during a test."""
    received: list[tuple[str, dict[str, Any]]] = []

    def created(sender: Any, **kwargs: Any) -> None:
        received.append(("created", kwargs))

    def updated(sender: Any, **kwargs: Any) -> None:
        received.append(("updated", kwargs))

    ticket_created.connect(created, sender=WorkOrder)
    ticket_updated.connect(updated, sender=WorkOrder)
    yield received
    ticket_created.disconnect(created, sender=WorkOrder)
    ticket_updated.disconnect(updated, sender=WorkOrder)


def changes_of(order: WorkOrder) -> list[tuple[str, str, str]]:
    return list(FieldChange.objects.filter(
        content_type=ContentType.objects.get_for_model(WorkOrder), object_id=order.pk,
    ).order_by("pk").values_list("field", "old_value", "new_value"))


def test_ticket_create_saves_links_logs_and_sends_ticket_created(owner, sent) -> None:  # noqa: ANN001
    printers, mail = ServiceFactory(name="Printers"), ServiceFactory(name="Mail")
    order = ticket_create(WorkOrder(title="New printer", created_by=owner), user=owner,
                          many={"services": [printers, mail]}, log_data={"via": "web"})
    assert set(order.services.all()) == {printers, mail}
    [log] = TransitionLog.objects.filter(object_id=order.pk,
                                         content_type=ContentType.objects.get_for_model(WorkOrder))
    assert (log.transition, log.source_state, log.target_state, log.actor, log.data) == (
        "create", "", "draft", owner, {"via": "web"})
    assert [(kind, kwargs["instance"].pk, kwargs["actor"]) for kind, kwargs in sent] == [
        ("created", order.pk, owner)]


def test_ticket_create_refuses_invalid_data_naming_the_field_and_saves_nothing(owner, sent) -> None:  # noqa: ANN001
    with pytest.raises(InvalidInput) as refused:
        ticket_create(WorkOrder(title="", created_by=owner), user=owner)
    assert "title" in refused.value.detail
    assert not WorkOrder.objects.exists() and sent == []


def test_ticket_update_records_many_to_many_changes_and_sends_ticket_updated(order, owner, sent) -> None:  # noqa: ANN001
    printers, mail = ServiceFactory(name="Printers"), ServiceFactory(name="Mail")
    ticket_update(order, user=owner, changes={"services": [printers], "title": "Replace the toner"},
                  editable={"services", "title"})
    ticket_update(order, user=owner, changes={"services": [mail, printers]}, editable={"services"})
    assert set(order.services.all()) == {printers, mail}
    assert changes_of(order) == [
        ("services", "", str(printers)),
        ("title", "Replace toner", "Replace the toner"),
        ("services", str(printers), ", ".join(sorted([str(mail), str(printers)]))),
    ]
    assert [(kind, kwargs["fields"]) for kind, kwargs in sent] == [
        ("updated", {"services", "title"}), ("updated", {"services"})]


def test_ticket_update_that_changes_nothing_records_and_sends_nothing(order, owner, sent) -> None:  # noqa: ANN001
    printers = ServiceFactory()
    order.services.set([printers])
    ticket_update(order, user=owner, changes={"services": [printers], "title": order.title},
                  editable={"services", "title"})
    assert changes_of(order) == [] and sent == []


def test_ticket_update_refuses_fields_the_state_does_not_allow_and_a_ticket_that_moved_on(order, owner) -> None:  # noqa: ANN001
    with pytest.raises(InvalidInput) as refused:
        ticket_update(order, user=owner, changes={"services": []}, editable={"title"})
    assert set(refused.value.detail) == {"services"}
    stale = WorkOrder.objects.get(pk=order.pk)
    perform_transition(order, "submit", user=owner)
    with pytest.raises(ConcurrentChange):
        ticket_update(stale, user=owner, changes={"title": "Other"}, editable={"title"})
    assert WorkOrder.objects.get(pk=order.pk).title == "Replace toner"


def cancelled(order: WorkOrder, owner: Any) -> WorkOrder:
    return perform_transition(order, "cancel", user=owner)


def test_a_transition_declared_comment_required_refuses_an_empty_comment(order, owner, supervisor) -> None:  # noqa: ANN001
    order = cancelled(order, owner)
    with pytest.raises(InvalidInput) as refused:
        perform_transition(order, "restore", user=supervisor, comment="  ")
    assert refused.value.status_code == 400
    assert refused.value.detail == {"comment": ["Say why the order is restored."]}
    assert WorkOrder.objects.get(pk=order.pk).state == "cancelled"


def test_a_transition_declared_comment_required_accepts_one(order, owner, supervisor) -> None:  # noqa: ANN001
    order = perform_transition(cancelled(order, owner), "restore", user=supervisor, comment="Ordered by mistake")
    assert order.state == "draft"
    log = TransitionLog.objects.filter(object_id=order.pk, transition="restore").get()
    assert log.comment == "Ordered by mistake"


def url(order: WorkOrder, suffix: str = "") -> str:
    return f"/api/v1/work-orders/{order.pk}/{suffix}"


@pytest.mark.urls("opscenter.core.tests.workflow_app.urls")
def test_the_api_refuses_a_missing_required_comment_with_400_naming_it(api_as, order, owner, supervisor) -> None:  # noqa: ANN001
    order = cancelled(order, owner)
    body = assert_error(api_as(supervisor).post(url(order, "transitions/restore/"), {}, format="json"), 400)
    assert "comment" in body["detail"]
    response = api_as(supervisor).post(url(order, "transitions/restore/"), {"comment": "Mistake"}, format="json")
    assert response.status_code == 200, response.content
    assert response.json()["state"] == "draft"


@pytest.mark.urls("opscenter.core.tests.workflow_app.urls")
def test_the_api_transition_action_goes_through_the_apps_hook(api_as, order, owner, monkeypatch) -> None:  # noqa: ANN001
    calls = []

    def app_service(self, obj, name, *, user, comment, data):  # noqa: ANN001, ANN202
        calls.append((obj.pk, name, user, comment, data))
        return TransitionActionMixin.perform_ticket_transition(self, obj, name, user=user, comment=comment,
                                                               data=data)

    monkeypatch.setattr(WorkOrderViewSet, "perform_ticket_transition", app_service)
    response = api_as(owner).post(url(order, "transitions/submit/"), {"comment": "please"}, format="json")
    assert response.status_code == 200, response.content
    assert response.json()["state"] == "submitted"
    assert calls == [(order.pk, "submit", owner, "please", {})]
    # Refusals come before the hook: it is not called for a transition the user may not take.
    assert_error(api_as(owner).post(url(order, "transitions/approve/"), {}, format="json"), 403)
    assert len(calls) == 1
