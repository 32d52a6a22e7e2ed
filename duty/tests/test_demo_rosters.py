"""The demo duty: someone on duty now in every demo team (the `duty` user and the demo engineers among the people
on the rosters, the supervisor on office shifts), last and this month published, next month's system roster a
draft whose gap the coverage check lists; loaded once."""

import io

import pytest
from django.utils import timezone

from duty import demo
from duty.choices import FindingKind, RosterState
from duty.coverage import roster_findings
from duty.models import Roster, Shift
from duty.selectors import on_duty
from opscenter.core import roles
from opscenter.core.demo import seed_organisation
from opscenter.core.models import Team, User

pytestmark = pytest.mark.django_db


def test_the_demo_puts_someone_on_duty_now_in_every_team_and_loads_once() -> None:
    seed_organisation("pw")
    out = io.StringIO()
    demo.seed(stdout=out)
    assert "8 rosters published" in out.getvalue()
    for team in Team.objects.filter(code__in=demo.TEAMS):
        now = on_duty(team)
        assert now, f"nobody on duty now in {team}"
        assert {s.role for s in now} >= {demo.TEAMS[team.code][0]}
    system = Team.objects.get(code="system")
    assert {s.role for s in on_duty(system)} >= {roles.SYSTEM_ENGINEER, roles.DUTY_OFFICER}
    for username in ("duty", "sysadmin", "neteng", "desktop", "security", "supervisor"):
        user = User.objects.get(username=username)
        assert Shift.objects.filter(user=user, roster__state=RosterState.PUBLISHED,
                                    start__month=timezone.localdate().month).exists(), username
    published = Roster.objects.filter(state=RosterState.PUBLISHED)
    assert published.count() == 8 and all(roster_findings(r) == [] for r in published)
    draft = Roster.objects.get(state=RosterState.DRAFT)
    assert draft.team == system and [f.kind for f in roster_findings(draft)] == [FindingKind.GAP]

    demo.seed(stdout=out)
    assert "skipped" in out.getvalue() and Roster.objects.count() == 9
