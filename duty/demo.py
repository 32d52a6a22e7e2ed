"""Demo duty: day and night shifts (白班 08:00, 夜班 20:00, twelve hours) in every demo team with one engineer of
the team's role on each, and in the system team a duty officer on each as well; rotations of four (day, night,
two days off) with the demo engineers and the `duty` user, three colleagues each added to make the four; the
supervisor on weekday office shifts. Rosters of last month and this month are published — someone is on duty now
in every team — and next month's system roster is a draft with a gap left in it for the coverage check. Loaded
once, through the roster services."""

import datetime as dt
import time as clock
from typing import TextIO

from django.contrib.auth.models import Group
from django.db import transaction
from django.utils import timezone

from duty import rosters
from duty.models import DutyPolicy, Roster, Rotation, RotationMember, Shift, ShiftRequirement, ShiftType
from duty.periods import local_day
from opscenter.core import roles
from opscenter.core.models import Team, User

# team → (the role its shifts need, its demo engineer, three colleagues who complete the rotation of four)
TEAMS = {
    "system": (roles.SYSTEM_ENGINEER, "sysadmin", [("sysops2", "趙運維"), ("sysops3", "錢運維"),
                                                   ("sysops4", "馬運維")]),
    "network": (roles.NETWORK_ENGINEER, "neteng", [("netops2", "韓網絡"), ("netops3", "楊網絡"),
                                                   ("netops4", "朱網絡")]),
    "desktop": (roles.DESKTOP_ENGINEER, "desktop", [("deskops2", "秦桌面"), ("deskops3", "尤桌面"),
                                                    ("deskops4", "許桌面")]),
    "security": (roles.SYSTEM_ENGINEER, "security", [("secops2", "何安全"), ("secops3", "呂安全"),
                                                     ("secops4", "施安全")]),
}
# The system team's duty officers beside the `duty` user.
DUTY_OFFICERS = [("duty2", "張值班"), ("duty3", "孔值班"), ("duty4", "曹值班")]
SHIFT_TYPES = [("D", "白班", dt.time(8), 12 * 60), ("N", "夜班", dt.time(20), 12 * 60)]
OFFICE = ("O", "主管日班", dt.time(8, 30), 9 * 60)  # the supervisor's weekday shift: no headcount asked for it
PATTERN = ["D", "N", "off", "off"]


def seed(*, stdout: TextIO) -> None:
    """Load the demo rosters once: skipped when rosters exist or the demo organisation is missing."""
    supervisor = User.objects.filter(username="supervisor").first()
    if supervisor is None:
        stdout.write("Demo duty: skipped (no demo organisation).")
        return
    if Roster.objects.exists():
        stdout.write("Demo duty: skipped (rosters already exist).")
        return
    began = clock.monotonic()
    zone = DutyPolicy.current().zone
    today = local_day(timezone.now(), zone)
    this_month = today.replace(day=1)
    last_month = (this_month - dt.timedelta(days=1)).replace(day=1)
    next_month = (this_month + dt.timedelta(days=32)).replace(day=1)
    # The pattern counts from a Monday before last month, so that it runs on across the months.
    starts_on = last_month - dt.timedelta(days=last_month.weekday())
    with transaction.atomic():
        teams = {team.code: team for team in Team.objects.filter(code__in=TEAMS)}
        for code, team in teams.items():
            role, engineer, colleagues = TEAMS[code]
            types = _shift_types(team, role)
            members = [User.objects.get(username=engineer), *_colleagues(team, role, colleagues)]
            _rotation(team, "值班工程師輪班", role, members, starts_on)
            if code == "system":
                for shift_type in types:
                    ShiftRequirement.objects.get_or_create(shift_type=shift_type, role=roles.DUTY_OFFICER,
                                                           defaults={"headcount": 1})
                officers = [User.objects.get(username="duty"),
                            *_colleagues(team, roles.DUTY_OFFICER, DUTY_OFFICERS)]
                _rotation(team, "值班人員輪班", roles.DUTY_OFFICER, officers, starts_on)
                office = _office(team)
                _rotation(team, "主管日班", roles.SUPERVISOR, [supervisor], starts_on,
                          pattern=[office.code] * 5 + ["off", "off"])
        made = []
        for team in teams.values():
            for first in (last_month, this_month):
                last = (first + dt.timedelta(days=32)).replace(day=1) - dt.timedelta(days=1)
                roster = rosters.roster_generate(user=supervisor, team=team, first_day=first, last_day=last)
                made.append(rosters.roster_transition(roster, "publish", user=supervisor,
                                                      comment="每月排班，已核對覆蓋。"))
        system = teams.get("system")
        if system is not None:
            last = (next_month + dt.timedelta(days=32)).replace(day=1) - dt.timedelta(days=1)
            draft = rosters.roster_generate(user=supervisor, team=system, first_day=next_month, last_day=last)
            # A colleague's training day leaves a day shift uncovered: the coverage check lists the gap.
            rosters.shift_delete(draft.shifts.filter(role=roles.SYSTEM_ENGINEER).order_by("start")[9], user=supervisor)
    stdout.write(f"Demo duty: {len(made)} rosters published, next month's system roster drafted, "
                 f"{Shift.objects.count()} shifts in {clock.monotonic() - began:.1f} s.")


def _shift_types(team: Team, role: str) -> list[ShiftType]:
    made = []
    for code, name, start, minutes in SHIFT_TYPES:
        shift_type, _created = ShiftType.objects.get_or_create(team=team, code=code, defaults={
            "name": name, "start_time": start, "duration_minutes": minutes})
        ShiftRequirement.objects.get_or_create(shift_type=shift_type, role=role, defaults={"headcount": 1})
        made.append(shift_type)
    return made


def _office(team: Team) -> ShiftType:
    code, name, start, minutes = OFFICE
    return ShiftType.objects.get_or_create(team=team, code=code, defaults={
        "name": name, "start_time": start, "duration_minutes": minutes})[0]


def _colleagues(team: Team, role: str, people: list[tuple[str, str]]) -> list[User]:
    """The team's demo colleagues in `role` (made once, without a password: they appear on the rosters)."""
    group = Group.objects.get(name=role)
    found = []
    for username, name in people:
        user, created = User.objects.get_or_create(username=username, defaults={
            "display_name": name, "email": f"{username}@example.com"})
        if created:
            user.set_unusable_password()
            user.save(update_fields=["password"])
        user.groups.add(group)
        team.members.add(user)
        found.append(user)
    return found


def _rotation(team: Team, name: str, role: str, members: list[User], starts_on: dt.date,
              pattern: list[str] | None = None) -> Rotation:
    rotation, _created = Rotation.objects.update_or_create(team=team, name=name, defaults={
        "role": role, "pattern": pattern or PATTERN, "starts_on": starts_on, "is_active": True})
    for position, user in enumerate(members):
        RotationMember.objects.update_or_create(rotation=rotation, user=user,
                                                defaults={"position": position, "offset": position})
    return rotation
