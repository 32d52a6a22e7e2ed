"""Factories of duty: a team's shift types, rosters and their shifts written as rows (for lists, query counts and
the services' tests), and a small crew on one team."""

from dataclasses import dataclass
from datetime import datetime, time, timedelta

import factory
from django.utils import timezone

from duty.choices import RosterState
from duty.models import DutyPolicy, Roster, Rotation, RotationMember, Shift, ShiftRequirement, ShiftType
from opscenter.core import roles
from opscenter.core.models import Team, User
from opscenter.core.tests.factories import TeamFactory, UserFactory


class ShiftTypeFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = ShiftType
        django_get_or_create = ("team", "code")

    team = factory.SubFactory(TeamFactory)
    code = "day"
    name = "Day"
    start_time = time(8, 0)
    duration_minutes = 12 * 60


class RosterFactory(factory.django.DjangoModelFactory):
    """A roster row (draft unless `state` says published; the state is written as a row, not by a transition)."""

    class Meta:
        model = Roster

    team = factory.SubFactory(TeamFactory)
    first_day = factory.LazyFunction(lambda: timezone.localdate().replace(day=1))
    last_day = factory.LazyAttribute(lambda r: (r.first_day + timedelta(days=31)).replace(day=1) - timedelta(days=1))
    created_by = factory.SubFactory(UserFactory, roles=[roles.SUPERVISOR])
    state = RosterState.DRAFT


class ShiftFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Shift

    roster = factory.SubFactory(RosterFactory)
    team = factory.LazyAttribute(lambda s: s.roster.team)
    role = roles.SYSTEM_ENGINEER
    user = factory.SubFactory(UserFactory, roles=[roles.SYSTEM_ENGINEER])
    start = factory.LazyFunction(lambda: timezone.now().replace(minute=0, second=0, microsecond=0))
    end = factory.LazyAttribute(lambda s: s.start + timedelta(hours=12))


def policy(**fields) -> DutyPolicy:  # noqa: ANN003
    """The policy row the migration made, with `fields` changed."""
    row = DutyPolicy.objects.order_by("pk").first() or DutyPolicy()
    for name, value in fields.items():
        setattr(row, name, value)
    row.save()
    return row


@dataclass
class DutyCrew:
    """One team with day and night shift types (08:00 and 20:00, 12 hours, one system engineer each), a
    supervisor, a duty officer and three engineers."""

    team: Team
    day: ShiftType
    night: ShiftType
    supervisor: User
    duty: User
    engineers: list[User]

    def published_roster(self, first_day, last_day) -> Roster:  # noqa: ANN001
        return RosterFactory(team=self.team, first_day=first_day, last_day=last_day, state=RosterState.PUBLISHED,
                             created_by=self.supervisor)

    def shift(self, roster: Roster, user: User, start: datetime, hours: int = 12, **fields) -> Shift:  # noqa: ANN003
        return ShiftFactory(roster=roster, team=self.team, user=user, start=start,
                            end=start + timedelta(hours=hours), **fields)


def duty_crew(code: str = "sys") -> DutyCrew:
    team = TeamFactory(code=code, name=f"Team {code}")
    day = ShiftTypeFactory(team=team, code="day", name="Day", start_time=time(8, 0), duration_minutes=720)
    night = ShiftTypeFactory(team=team, code="night", name="Night", start_time=time(20, 0), duration_minutes=720)
    for shift_type in (day, night):
        ShiftRequirement.objects.get_or_create(shift_type=shift_type, role=roles.SYSTEM_ENGINEER,
                                               defaults={"headcount": 1})
    supervisor = UserFactory(username=f"{code}-supervisor", roles=[roles.SUPERVISOR])
    duty = UserFactory(username=f"{code}-duty", roles=[roles.DUTY_OFFICER])
    engineers = [UserFactory(username=f"{code}-eng{n}", roles=[roles.SYSTEM_ENGINEER]) for n in range(1, 4)]
    team.members.add(supervisor, duty, *engineers)
    return DutyCrew(team, day, night, supervisor, duty, engineers)


# --- roster ---


def rotation_of(crew: DutyCrew, members: list[User], pattern: list[str] | None = None, *, starts_on=None,  # noqa: ANN001
                name: str = "Engineers", role: str = roles.SYSTEM_ENGINEER) -> Rotation:
    """A rotation of the crew's team (by default day, night, off, off), member n starting the pattern n days in:
    four members cover every day and every night once."""
    rotation = Rotation.objects.create(team=crew.team, name=name, role=role,
                                       pattern=pattern or ["day", "night", "off", "off"],
                                       starts_on=starts_on or timezone.localdate())
    for position, user in enumerate(members):
        RotationMember.objects.create(rotation=rotation, user=user, position=position, offset=position)
    return rotation


def four_engineers(crew: DutyCrew) -> list[User]:
    """The crew's three engineers and a fourth, all system engineers of the team."""
    fourth = UserFactory(username=f"{crew.team.code}-eng4", roles=[roles.SYSTEM_ENGINEER])
    crew.team.members.add(fourth)
    return [*crew.engineers, fourth]
