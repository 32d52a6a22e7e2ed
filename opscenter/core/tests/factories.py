"""Factories of the kernel's models."""

import factory
from django.contrib.auth.models import Group

from opscenter.core.choices import CIType, TeamKind
from opscenter.core.models import ConfigurationItem, Department, Service, Team, User


class DepartmentFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Department
        django_get_or_create = ("code",)

    code = factory.Sequence(lambda n: f"dept-{n}")
    name = factory.Sequence(lambda n: f"Department {n}")


class TeamFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Team
        django_get_or_create = ("code",)

    code = factory.Sequence(lambda n: f"team-{n}")
    name = factory.Sequence(lambda n: f"Team {n}")
    kind = TeamKind.SYSTEM


class UserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = User
        skip_postgeneration_save = True

    username = factory.Sequence(lambda n: f"user{n}")
    email = factory.LazyAttribute(lambda u: f"{u.username}@example.com")
    password = factory.PostGenerationMethodCall("set_password", "pw")

    @factory.post_generation
    def roles(self, create: bool, extracted: list[str] | None, **kwargs) -> None:  # noqa: ANN003
        if create and extracted:
            self.groups.set(Group.objects.filter(name__in=extracted))
        self.save()


class ServiceFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Service

    code = factory.Sequence(lambda n: f"svc-{n}")
    name = factory.Sequence(lambda n: f"Service {n}")


class ConfigurationItemFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = ConfigurationItem

    name = factory.Sequence(lambda n: f"ci-{n}")
    ci_type = CIType.SERVER
    asset_tag = factory.Sequence(lambda n: f"TAG-{n:05d}")
