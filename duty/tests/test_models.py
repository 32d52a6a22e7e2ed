"""The data model's own rules, held by the database."""

from datetime import timedelta

import pytest
from django.db import IntegrityError

from duty.models import DutyPolicy
from duty.tests.factories import ShiftFactory, duty_crew

pytestmark = pytest.mark.django_db


def test_the_migration_makes_the_policy_with_two_reminders() -> None:
    policy = DutyPolicy.current()
    assert policy.pk is not None
    assert policy.reminder_leads_minutes == [720, 30]


def test_a_shift_that_ends_before_it_starts_is_refused_by_the_database() -> None:
    crew = duty_crew()
    shift = ShiftFactory(team=crew.team, user=crew.engineers[0])
    shift.end = shift.start - timedelta(hours=1)
    with pytest.raises(IntegrityError):
        shift.save()
