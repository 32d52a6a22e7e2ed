"""The demo changes: every state over the last 60 days and the next 30, real timelines and votes, freeze
and maintenance windows, a conflict on the calendar, loaded once."""

import io
from datetime import timedelta

import pytest
from django.contrib.contenttypes.models import ContentType
from django.core.management import call_command
from django.utils import timezone

from changes import demo
from changes.choices import ApprovalMode, ChangeType, Decision, State, TemplateState
from changes.models import Change, ChangeOpinion, ChangeTemplate, ChangeVote, FreezeWindow, MaintenanceWindow
from changes.rules import find_conflicts
from opscenter.core.choices import DeliveryStatus
from opscenter.core.demo import seed_organisation
from opscenter.core.models import Notification, TransitionLog, User

pytestmark = pytest.mark.django_db


def test_demo_changes_cover_every_state_with_real_timelines_and_load_once() -> None:
    seed_organisation("pw")
    out = io.StringIO()
    demo.seed(stdout=out)
    count = Change.objects.count()
    assert 35 <= count <= 45, out.getvalue()
    assert set(Change.objects.values_list("state", flat=True)) == set(State.values)
    assert set(Change.objects.values_list("change_type", flat=True)) == set(ChangeType.values)
    assert {"low", "medium", "high", "major"} <= set(Change.objects.values_list("risk_level", flat=True))
    now = timezone.now()
    windows = Change.objects.exclude(planned_start=None)
    assert windows.filter(planned_start__lt=now - timedelta(days=40)).exists()
    assert windows.filter(planned_start__gt=now + timedelta(days=14)).exists()
    assert not windows.filter(planned_start__lt=now - timedelta(days=61)).exists()
    assert not windows.filter(planned_start__gt=now + timedelta(days=45)).exists()
    assert not Change.objects.filter(created_at__gt=now).exists()

    # A joint review half cast: two CAB members approved, the third has still to vote.
    half = Change.objects.get(state=State.AWAITING_APPROVAL, approval_mode=ApprovalMode.JOINT)
    assert list(half.current_votes().values_list("decision", flat=True)) == [Decision.APPROVE] * 2
    assert half.cab_members.count() == 3
    assert ChangeVote.objects.filter(decision=Decision.REJECT, is_joint_review=True).exists()
    assert ChangeOpinion.objects.filter(given_at__isnull=False).exists()
    assert Change.objects.exclude(risk_override_reason="").exists()
    assert Change.objects.filter(state=State.CLOSED, failed_at__isnull=False, reviews__isnull=False).exists()
    assert set(ChangeTemplate.objects.values_list("state", flat=True)) == set(TemplateState.values)
    assert Change.objects.filter(change_type=ChangeType.STANDARD, state=State.CLOSED).exists()

    # Windows: a global freeze, a per-service one, maintenance windows for the main services.
    assert FreezeWindow.objects.filter(services__isnull=True).exists()
    assert FreezeWindow.objects.filter(services__isnull=False).exists()
    assert MaintenanceWindow.objects.values("service").distinct().count() >= 5

    # A conflict on the calendar in the coming weeks, acknowledged when it was scheduled.
    upcoming = Change.objects.filter(state=State.SCHEDULED, planned_start__gt=now,
                                     planned_start__lt=now + timedelta(days=30))
    conflicting = [c for c in upcoming if find_conflicts(c)]
    assert len(conflicting) >= 2
    assert any(c.conflicts_acknowledged for c in conflicting)

    # Timelines were written as it happened: each entry at or after the request, none in the future.
    content_type = ContentType.objects.get_for_model(Change)
    created = dict(Change.objects.values_list("pk", "created_at"))
    entries = TransitionLog.objects.filter(content_type=content_type)
    assert entries.count() > count * 3
    assert all(created[e.object_id] <= e.created_at <= now for e in entries)
    closed = Change.objects.filter(state=State.CLOSED, outcome="successful")
    assert all(c.created_at < c.approved_at < c.planned_start <= c.started_at < c.closed_at for c in closed)
    assert not Notification.objects.exclude(status=DeliveryStatus.SENT).exists()

    demo.seed(stdout=out)
    assert Change.objects.count() == count
    assert "skipped" in out.getvalue()


def test_seed_demo_makes_change_approvers_and_cab_members_staff() -> None:
    out = io.StringIO()
    call_command("seed_demo", "--password", "pw", "--quiet-signins", stdout=out)
    assert "Demo changes:" in out.getvalue()
    staff = set(User.objects.filter(is_staff=True).values_list("username", flat=True))
    assert {"supervisor", "approver", "cab", "cab2", "cab3"} <= staff
