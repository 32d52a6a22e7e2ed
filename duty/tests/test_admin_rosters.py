"""The duty admin for supervisors: the one policy row, shift types with their headcount, rotations with their
members (patterns checked), rosters generated when added and published from the decision panel (accepting the
findings first), and shifts changed through the roster services — refusals as messages, nothing changed."""

from datetime import timedelta
from typing import Any

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from duty import rosters
from duty.choices import RosterState
from duty.models import DutyPolicy, Roster, Rotation, Shift
from duty.tests.factories import duty_crew, four_engineers, rotation_of
from opscenter.core import roles
from opscenter.core.models import TransitionLog

pytestmark = pytest.mark.django_db


@pytest.fixture
def crew():  # noqa: ANN201
    crew = duty_crew()
    crew.supervisor.is_staff = True
    crew.supervisor.save()
    crew.first = timezone.localdate() + timedelta(days=7)
    crew.rotation = rotation_of(crew, four_engineers(crew), starts_on=crew.first)
    return crew


def admin_client(user: Any) -> Client:
    client = Client(HTTP_ACCEPT_LANGUAGE="en")
    client.force_login(user)
    return client


def texts(response: Any) -> list[str]:
    return [str(m) for m in response.context["messages"]]


def test_every_duty_admin_page_renders_for_a_supervisor(crew) -> None:  # noqa: ANN001
    roster = rosters.roster_generate(user=crew.supervisor, team=crew.team, first_day=crew.first,
                                     last_day=crew.first + timedelta(days=3))
    client = admin_client(crew.supervisor)
    for name, args in [("duty_dutypolicy_changelist", []), ("duty_dutypolicy_change", [DutyPolicy.current().pk]),
                       ("duty_shifttype_changelist", []), ("duty_shifttype_change", [crew.day.pk]),
                       ("duty_rotation_change", [crew.rotation.pk]), ("duty_roster_changelist", []),
                       ("duty_roster_change", [roster.pk]), ("duty_roster_add", []), ("duty_shift_changelist", []),
                       ("duty_shift_change", [roster.shifts.first().pk])]:
        assert client.get(reverse(f"admin:{name}", args=args)).status_code == 200, name
    assert client.get(reverse("admin:duty_dutypolicy_add")).status_code == 403  # one row only


def test_a_roster_added_in_the_admin_is_generated_from_the_rotations(crew) -> None:  # noqa: ANN001
    client = admin_client(crew.supervisor)
    response = client.post(reverse("admin:duty_roster_add"), {
        "team": crew.team.pk, "first_day": crew.first, "last_day": crew.first + timedelta(days=1),
        "shifts-TOTAL_FORMS": "0", "shifts-INITIAL_FORMS": "0"}, follow=True)
    assert response.status_code == 200
    roster = Roster.objects.get()
    assert (roster.created_by, roster.shifts.count()) == (crew.supervisor, 4)
    too_long = client.post(reverse("admin:duty_roster_add"), {
        "team": crew.team.pk, "first_day": crew.first + timedelta(days=10),
        "last_day": crew.first + timedelta(days=200)}, follow=True)
    assert any("at most 92 days" in m for m in texts(too_long)) and Roster.objects.count() == 1


def test_the_decision_panel_accepts_the_findings_then_publishes(crew) -> None:  # noqa: ANN001
    crew.rotation.members.filter(position=3).delete()
    roster = rosters.roster_generate(user=crew.supervisor, team=crew.team, first_day=crew.first,
                                     last_day=crew.first + timedelta(days=3))
    client = admin_client(crew.supervisor)
    change = reverse("admin:duty_roster_change", args=[roster.pk])
    panel = client.get(change).context["decision_panel"]
    assert [d["name"] for d in panel["decisions"]] == ["accept_findings"]
    assert "2 findings block publishing" in panel["body"]
    accept = reverse("admin:duty_roster_transition", args=[roster.pk, "accept_findings"])
    assert client.post(accept, {"note": ""}).context["transition_form"].errors["note"]
    client.post(accept, {"note": "Covered by the supervisor."}, follow=True)
    assert Roster.objects.get(pk=roster.pk).findings_note == "Covered by the supervisor."
    panel = client.get(change).context["decision_panel"]
    assert [d["name"] for d in panel["decisions"]] == ["publish"]
    client.post(reverse("admin:duty_roster_transition", args=[roster.pk, "publish"]), {"comment": ""}, follow=True)
    assert Roster.objects.get(pk=roster.pk).state == RosterState.PUBLISHED
    assert TransitionLog.objects.filter(object_id=roster.pk, transition="publish", actor=crew.supervisor).exists()
    assert client.get(change).context["decision_panel"] is None


def test_a_shift_changed_in_the_admin_goes_through_the_roster_rules(crew) -> None:  # noqa: ANN001
    roster = rosters.roster_generate(user=crew.supervisor, team=crew.team, first_day=crew.first,
                                     last_day=crew.first + timedelta(days=3))
    first, other = roster.shifts.order_by("start")[:2]
    client = admin_client(crew.supervisor)
    url = reverse("admin:duty_shift_change", args=[first.pk])
    form = {"user": other.user_id, "role": first.role, "shift_type": first.shift_type_id,
            "start_0": timezone.localtime(first.start).strftime("%Y-%m-%d"),
            "start_1": timezone.localtime(first.start).strftime("%H:%M:%S"),
            "end_0": timezone.localtime(first.end).strftime("%Y-%m-%d"),
            "end_1": timezone.localtime(first.end).strftime("%H:%M:%S")}
    later = timezone.localtime(first.end + timedelta(hours=1))  # into the other's night shift
    refused = client.post(url, {**form, "end_0": later.strftime("%Y-%m-%d"), "end_1": later.strftime("%H:%M:%S")},
                          follow=True)
    assert any("two shifts at once" in m for m in texts(refused))
    assert Shift.objects.get(pk=first.pk).user_id == first.user_id
    helper = crew.engineers[2]
    done = client.post(url, {**form, "user": helper.pk}, follow=True)
    assert done.status_code == 200 and Shift.objects.get(pk=first.pk).user == helper
    rosters.roster_transition(roster, "publish", user=crew.supervisor)
    client.post(reverse("admin:duty_shift_delete", args=[first.pk]), {"post": "yes"}, follow=True)
    assert Shift.objects.filter(pk=first.pk).exists()


def test_a_rotation_naming_another_teams_shift_type_is_refused(crew) -> None:  # noqa: ANN001
    client = admin_client(crew.supervisor)
    response = client.post(reverse("admin:duty_rotation_add"), {
        "team": crew.team.pk, "name": "Three shifts", "role": roles.SYSTEM_ENGINEER,
        "pattern": '["early", "late", "off"]', "starts_on": crew.first, "is_active": "on",
        "members-TOTAL_FORMS": "0", "members-INITIAL_FORMS": "0"})
    assert response.status_code == 200 and "early, late" in response.content.decode()
    assert not Rotation.objects.filter(name="Three shifts").exists()


def test_engineers_do_not_reach_the_duty_admin(crew) -> None:  # noqa: ANN001
    client = admin_client(crew.engineers[0])
    assert client.get(reverse("admin:duty_roster_changelist")).status_code == 302
