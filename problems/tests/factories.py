"""Factories of problem management: problems, action items and known errors written as rows."""

from datetime import timedelta

import factory
from django.utils import timezone

from opscenter.core import roles
from opscenter.core.tests.factories import UserFactory
from problems.models import ActionItem, KnownError, Problem


class ProblemFactory(factory.django.DjangoModelFactory):
    """A problem written as a row (no timeline): for lists and query counts."""

    class Meta:
        model = Problem

    title = factory.Sequence(lambda n: f"ERP logins time out every Monday #{n}")
    description = "Three incidents in a month: the ERP login page times out at 09:00 on Mondays."
    created_by = factory.SubFactory(UserFactory, roles=[roles.PROBLEM_MANAGER])


class ActionItemFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = ActionItem

    problem = factory.SubFactory(ProblemFactory)
    measure = factory.Sequence(lambda n: f"Raise the connection pool size #{n}")
    owner = factory.SubFactory(UserFactory, roles=[roles.SYSTEM_ENGINEER])
    due_date = factory.LazyFunction(lambda: timezone.localdate() + timedelta(days=7))


class KnownErrorFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = KnownError

    title = factory.Sequence(lambda n: f"ERP login timeout #{n}")
    symptom = "The login page spins for a minute, then shows a timeout."
    root_cause = "The connection pool is exhausted by the Monday batch jobs."
    workaround = "Restart the ERP application service; log in again after two minutes."
    created_by = factory.SubFactory(UserFactory, roles=[roles.PROBLEM_MANAGER])
