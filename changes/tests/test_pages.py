"""The change pages as people use them: the queues, request and edit, the detail page with its transition
forms, opinions, steps and review, the CAB agenda — per role, with refusals, SoD, escaping, visibility and
pinned query counts."""

from datetime import timedelta

import pytest
from django.test import Client
from django.utils import timezone

from changes.choices import ChangeType, RiskLevel, State, StepStatus
from changes.models import Change, ChangeOpinion, ChangeVote, RiskQuestion
from changes.services import change_invite_opinions, change_update
from changes.tests.factories import (
    STEPS,
    advance,
    approved_template,
    change_in_state,
    draft_change,
    make_crew,
    open_window,
    request_data,
)
from opscenter.core import roles
from opscenter.core.models import TransitionLog, User
from opscenter.core.tests.factories import ConfigurationItemFactory, DepartmentFactory, ServiceFactory, UserFactory

pytestmark = pytest.mark.django_db

LIST = "/changes/"
NEW = "/changes/new/"
FROM_TEMPLATE = "/changes/new/from-template/"
CAB = "/changes/cab/"


def detail_url(change: Change) -> str:
    return f"/changes/{change.pk}/"


def transition_url(change: Change, name: str) -> str:
    return f"/changes/{change.pk}/transitions/{name}/"


def signed_in(user: User) -> Client:
    client = Client(HTTP_ACCEPT_LANGUAGE="en")
    client.force_login(user)
    return client


def html(response) -> str:  # noqa: ANN001
    return response.content.decode()


def page_messages(response) -> list[str]:  # noqa: ANN001
    return [str(m) for m in response.context["messages"]]


@pytest.fixture
def crew():  # noqa: ANN201
    return make_crew()


def joint_review(crew) -> Change:  # noqa: ANN001
    """A high-risk change awaiting the votes of the three named CAB members."""
    return change_in_state(State.AWAITING_APPROVAL, crew, risk=RiskLevel.HIGH)


# --- Rendering per role ---------------------------------------------------------------------------------


def test_detail_renders_for_every_role_that_sees_the_change(crew) -> None:  # noqa: ANN001
    change = joint_review(crew)
    for user in (crew.requester, crew.supervisor, crew.approver, crew.cab[0], crew.implementer, crew.engineer):
        response = signed_in(user).get(detail_url(change))
        assert response.status_code == 200, user
        body = html(response)
        assert change.number in body and "Joint review" in body
