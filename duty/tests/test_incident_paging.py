"""Incidents and duty: a P1/P2 pages the responsible team's people on duty and the supervisor on duty first, the
rest of the team (and the other supervisors) once if nobody takes it up within its assign-by time; without duty's
answer incidents page everyone at once. A fault reported by phone goes into the duty log of the current shift."""

from datetime import date, timedelta
from typing import Any

import pytest
from django.utils import timezone

from duty.choices import LogKind
from duty.models import DutyLogEntry, Shift
from duty.paging import first_wave, shifts_on_duty
from duty.tests.factories import DutyCrew, RosterFactory, duty_crew
from incidents.models import Category, Incident, UrgentPaging
from incidents.services import incident_escalate_paging, incident_report, incident_transition
from incidents.tasks import sweep_urgent_paging
from opscenter.core import extensions, roles
from opscenter.core.choices import Channel, TeamKind
from opscenter.core.models import Notification, User
from opscenter.core.tests.factories import TeamFactory, UserFactory

pytestmark = pytest.mark.django_db


class OnDuty:
    """The crew's team is the hardware category's; its first engineer and the duty officer are on the team's shift
    now, a supervisor of another team is on a supervisor's shift, and a second supervisor is off duty."""

    def __init__(self) -> None:
        self.crew: DutyCrew = duty_crew()
        self.category = Category.objects.get(code="hardware")
        self.category.default_team = self.crew.team
        self.category.save()
        self.now = timezone.now()
        today = date.today()
        roster = self.crew.published_roster(today - timedelta(days=1), today + timedelta(days=1))
        start = self.now - timedelta(hours=2)
        self.engineer = self.crew.engineers[0]
        self.crew.shift(roster, self.engineer, start)
        self.crew.shift(roster, self.crew.duty, start, role=roles.DUTY_OFFICER)
        self.crew.shift(roster, self.crew.engineers[1], start + timedelta(hours=12))  # the next shift
        leads = TeamFactory(code="leads", name="Supervisors")
        self.supervisor = UserFactory(username="sup-on-duty", roles=[roles.SUPERVISOR])
        lead_roster = RosterFactory(team=leads, first_day=today - timedelta(days=1), last_day=today + timedelta(days=1),
                                    state="published", created_by=self.supervisor)
        self.crew.shift(lead_roster, self.supervisor, start, role=roles.SUPERVISOR)
        self.off_duty_supervisor = self.crew.supervisor

    def report(self, channel: str = "phone", recorder: User | None = None) -> Incident:
        return incident_report(recorder=recorder or self.crew.duty, data={
            "title": "核心交換機故障", "description": "機房 A 核心交換機無回應", "occurred_at": timezone.now(),
            "impact_scope": "全公司網路", "channel": channel, "caller_name": "網管中心 王先生"})

    def p1(self, category: Category | None = None) -> Incident:
        return incident_transition(self.report(), "classify", user=self.crew.duty,
                                   data={"category": category or self.category, "impact": 1, "urgency": 1})


@pytest.fixture
def duty() -> OnDuty:
    return OnDuty()


def paged(event: str, incident: Incident) -> set[User]:
    return {n.recipient for n in Notification.objects.filter(event=event, channel=Channel.IN_APP,
                                                             payload__id=incident.pk).select_related("recipient")}


def test_the_first_wave_is_who_is_on_duty_for_the_team_and_the_supervisor_on_duty(duty: OnDuty) -> None:
    assert set(first_wave(duty.crew.team, duty.now)) == {duty.engineer, duty.crew.duty, duty.supervisor}
    assert first_wave(TeamFactory(code="no-roster"), duty.now) is None  # nobody on duty: page as without duty
    assert first_wave(duty.crew.team, duty.now + timedelta(days=3)) is None


def test_a_p1_pages_those_on_duty_first_and_the_rest_once_after_the_assign_by_time(duty: OnDuty, settings: Any) -> None:
    incident = duty.p1()
    assert incident.priority == "P1"
    assert paged("incident.urgent", incident) == {duty.engineer, duty.crew.duty, duty.supervisor}
    paging = UrgentPaging.objects.get(incident=incident)
    assert paging.escalate_at == paging.paged_at + timedelta(minutes=settings.INCIDENT_ASSIGN_WITHIN_MINUTES["P1"])
    assert incident_escalate_paging(now=paging.escalate_at - timedelta(seconds=1)) == 0
    assert not paged("incident.urgent_escalated", incident)
    assert incident_escalate_paging(now=paging.escalate_at) == 1
    assert incident_escalate_paging(now=paging.escalate_at + timedelta(minutes=1)) == 0  # the sweep runs again
    rest = {*duty.crew.engineers[1:], duty.crew.supervisor}  # the team's others and the supervisor off duty
    assert paged("incident.urgent_escalated", incident) == rest
    assert Notification.objects.filter(event="incident.urgent_escalated", channel=Channel.IN_APP).count() == len(rest)
    paging.refresh_from_db()
    assert paging.escalated and paging.settled_at is not None


def test_nobody_more_is_paged_when_the_assignee_takes_it_up_in_time(duty: OnDuty) -> None:
    incident = duty.p1()
    incident = incident_transition(incident, "assign", user=duty.crew.duty, data={"assignee": duty.engineer})
    assert incident.state == "assigned"
    paging = UrgentPaging.objects.get(incident=incident)
    incident_transition(incident, "start_diagnosis", user=duty.engineer)
    assert sweep_urgent_paging() == 0  # not due yet
    assert incident_escalate_paging(now=paging.escalate_at + timedelta(minutes=5)) == 0
    paging.refresh_from_db()
    assert paging.settled_at is not None and not paging.escalated
    assert not paged("incident.urgent_escalated", incident)


def test_an_assigned_incident_nobody_started_on_still_escalates(duty: OnDuty) -> None:
    incident = duty.p1()
    incident_transition(incident, "assign", user=duty.crew.duty, data={"assignee": duty.engineer})
    paging = UrgentPaging.objects.get(incident=incident)
    assert incident_escalate_paging(now=paging.escalate_at) == 1


def test_a_security_incident_pages_on_duty_only_those_who_may_see_it(duty: OnDuty) -> None:
    security = Category.objects.get(code="security")
    security.default_team = duty.crew.team  # a system team: its engineers may not open security incidents
    security.save()
    incident = duty.p1(category=security)
    assert paged("incident.urgent", incident) == {duty.supervisor, duty.crew.duty}  # the duty officer reported it
    paging = UrgentPaging.objects.get(incident=incident)
    assert incident_escalate_paging(now=paging.escalate_at) == 1
    assert paged("incident.urgent_escalated", incident) == {duty.off_duty_supervisor}
    analyst = UserFactory(roles=[roles.SYSTEM_ENGINEER])
    TeamFactory(code="sec", kind=TeamKind.SECURITY).members.add(analyst)
    assert analyst not in paged("incident.urgent", incident) | paged("incident.urgent_escalated", incident)


def test_without_a_resolver_everyone_is_paged_at_once_as_before(duty: OnDuty, monkeypatch: Any) -> None:
    monkeypatch.setattr(extensions, "_paging_resolvers", [])  # an installation without duty
    incident = duty.p1()
    team = set(duty.crew.team.members.all())
    assert paged("incident.urgent", incident) == team | {duty.supervisor}
    assert not UrgentPaging.objects.exists()
    assert incident_escalate_paging(now=timezone.now() + timedelta(hours=1)) == 0


def test_without_anyone_on_duty_everyone_is_paged_at_once(duty: OnDuty) -> None:
    other = TeamFactory(code="net", name="Network")
    member = UserFactory(roles=[roles.NETWORK_ENGINEER])
    other.members.add(member)
    network = Category.objects.get(code="network")
    network.default_team = other
    network.save()
    incident = duty.p1(category=network)
    assert paged("incident.urgent", incident) == {member, duty.supervisor, duty.off_duty_supervisor}
    assert not UrgentPaging.objects.filter(incident=incident).exists()


def test_a_phone_report_goes_into_the_duty_officers_log(duty: OnDuty) -> None:
    incident = duty.report()
    entry = DutyLogEntry.objects.get()
    assert entry.shift.user == duty.crew.duty and entry.kind == LogKind.FAULT
    assert list(entry.incidents.all()) == [incident] and entry.author == duty.crew.duty
    assert incident.number in entry.text and "王先生" in entry.text
    duty.report(channel="email")  # not a phone report
    assert DutyLogEntry.objects.count() == 1
    duty.report(recorder=duty.off_duty_supervisor)  # a supervisor took the call for the duty officer
    assert DutyLogEntry.objects.filter(shift__user=duty.crew.duty).count() == 2


def test_a_phone_report_with_nobody_on_duty_is_not_logged(duty: OnDuty) -> None:
    Shift.objects.update(start=duty.now + timedelta(days=2), end=duty.now + timedelta(days=2, hours=12))
    duty.report()
    assert not DutyLogEntry.objects.exists()


def test_who_is_on_duty_is_read_again_once_a_shift_or_a_roster_changes(duty: OnDuty) -> None:
    """The shifts on duty in an hour are kept in the cache: a shift added to a published roster, and a shift changed
    without a signal (as a swap does, renewing them), are seen by the next phone report at once."""
    from opscenter.core.caching import renew

    now = timezone.now()
    assert {s.user for s in shifts_on_duty(now)} == {duty.engineer, duty.crew.duty, duty.supervisor}
    duty.report()  # logged on the duty officer's shift, read into the cache
    stand_in = UserFactory(username="stand-in", roles=[roles.DUTY_OFFICER])
    draft = RosterFactory(team=TeamFactory(code="net", name="Network"), first_day=date.today() - timedelta(days=1),
                          last_day=date.today() + timedelta(days=1), state="draft", created_by=duty.supervisor)
    duty.crew.shift(draft, stand_in, now - timedelta(hours=1), role=roles.DUTY_OFFICER)
    assert stand_in not in {s.user for s in shifts_on_duty(now)}  # a draft's shifts are nobody's duty
    published = Shift.objects.get(user=duty.crew.duty).roster
    stand_in_shift = duty.crew.shift(published, stand_in, now - timedelta(hours=1), role=roles.DUTY_OFFICER)
    assert stand_in in {s.user for s in shifts_on_duty(now)}
    duty.report(recorder=stand_in)
    assert DutyLogEntry.objects.filter(shift=stand_in_shift).count() == 1
    Shift.objects.filter(pk=stand_in_shift.pk).update(end=now - timedelta(minutes=1))
    renew(Shift)  # what a write without a signal does (duty.swaps, duty.rosters)
    assert stand_in not in {s.user for s in shifts_on_duty(now)}
    duty.report(recorder=stand_in)  # the stand-in is off duty now: the duty officer's shift takes it
    assert DutyLogEntry.objects.filter(shift=stand_in_shift).count() == 1
    assert DutyLogEntry.objects.filter(shift__user=duty.crew.duty).count() == 2
