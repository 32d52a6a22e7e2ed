"""The data model's own rules."""

import pytest
from django.db import IntegrityError

from problems.models import ProblemIncident, ProblemPolicy
from problems.tests.factories import KnownErrorFactory, ProblemFactory

pytestmark = pytest.mark.django_db


def test_the_migration_makes_the_policy() -> None:
    policy = ProblemPolicy.current()
    assert policy.pk is not None
    assert (policy.recurrence_threshold, policy.recurrence_window_days, policy.observation_days) == (3, 30, 14)


def test_problems_and_known_errors_are_numbered_by_their_own_prefixes() -> None:
    assert ProblemFactory().number.startswith("PRB-")
    assert KnownErrorFactory().number.startswith("KE-")


def test_an_incident_is_linked_to_a_problem_once() -> None:
    from incidents.tests.factories import IncidentFactory

    problem, incident = ProblemFactory(), IncidentFactory()
    ProblemIncident.objects.create(problem=problem, incident=incident)
    with pytest.raises(IntegrityError):
        ProblemIncident.objects.create(problem=problem, incident=incident)
