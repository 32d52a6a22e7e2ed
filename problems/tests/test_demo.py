"""The demo problems: several states with real timelines, identified from the demo incidents, an alarm and feedback;
loaded once."""

import io

import pytest
from django.contrib.contenttypes.models import ContentType
from django.utils import timezone

from incidents import demo as incident_demo
from opscenter.core.choices import DeliveryStatus
from opscenter.core.demo import seed_organisation
from opscenter.core.models import Notification, TransitionLog
from problems import demo
from problems.choices import ActionState, Source, State
from problems.models import ActionItem, Problem

pytestmark = pytest.mark.django_db


def test_demo_problems_cover_the_process_with_timelines_and_load_once() -> None:
    seed_organisation("pw")
    out = io.StringIO()
    incident_demo.seed(stdout=out)
    demo.seed(stdout=out)
    assert {State.IDENTIFIED, State.INVESTIGATING, State.ANALYZING, State.SOLVING, State.VERIFYING,
            State.UNDER_REVIEW, State.CLOSED, State.CANCELLED} <= set(Problem.objects.values_list("state", flat=True))
    assert {Source.INCIDENTS, Source.MONITORING, Source.FEEDBACK} <= set(Problem.objects.values_list("source",
                                                                                                    flat=True))
    closed = Problem.objects.get(state=State.CLOSED)
    assert closed.incidents.exists() and closed.fishbone and closed.five_whys and closed.changes.exists()
    assert closed.created_at < closed.observation_started_at < closed.observation_ends_at < closed.closed_at
    assert ActionItem.objects.overdue().filter(problem__state=State.SOLVING).exists()
    assert Problem.objects.get(state=State.VERIFYING).observation_ends_at > timezone.now()
    assert not ActionItem.objects.filter(problem__state__in=[State.VERIFYING, State.UNDER_REVIEW, State.CLOSED],
                                         state__in=[ActionState.OPEN, ActionState.IN_PROGRESS]).exists()

    # Timelines were written as it happened, never ahead of now.
    content_type = ContentType.objects.get_for_model(Problem)
    created = dict(Problem.objects.values_list("pk", "created_at"))
    entries = TransitionLog.objects.filter(content_type=content_type)
    assert all(created[e.object_id] <= e.created_at <= timezone.now() for e in entries)
    assert not Notification.objects.exclude(status=DeliveryStatus.SENT).exists()

    # Known errors in several states, with Chinese titles, the published ones suggested for a new incident.
    from problems.choices import KnownErrorState
    from problems.known_errors import known_error_suggestions
    from problems.models import KnownError

    assert set(KnownErrorState.values) <= set(KnownError.objects.values_list("state", flat=True))
    erp = KnownError.objects.get(title="ERP 系統登入逾時")
    assert erp.state == KnownErrorState.PUBLISHED and erp.problem.state == State.CLOSED
    assert erp.created_at < erp.published_at <= timezone.now()
    assert erp in known_error_suggestions(user=erp.problem.created_by, text="ERP 登入逾時")

    count = Problem.objects.count()
    demo.seed(stdout=out)
    assert Problem.objects.count() == count and "Demo problems: skipped" in out.getvalue()
