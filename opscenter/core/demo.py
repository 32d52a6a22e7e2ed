"""Demo organisation of an IT management center: departments, teams, one user per role, services, CIs; and the
stepped clock every app's demo walks its tickets on."""

import contextlib
import datetime as dt
from collections.abc import Iterator
from unittest import mock

from django.contrib.auth.models import Group
from django.db import transaction
from django.db.models import F, Max, QuerySet

from opscenter.core import roles
from opscenter.core.choices import Channel, CIStatus, CIType, Criticality, DeliveryStatus, TeamKind
from opscenter.core.models import ConfigurationItem, Department, Notification, Service, Team, User

DEPARTMENTS = [
    ("finance", "財務部", "finance@example.com"),
    ("hr", "人力資源部", "hr@example.com"),
    ("sales", "業務部", "sales@example.com"),
    ("admin", "行政部", "admin@example.com"),
    ("service-desk", "客戶服務中心", "cs@example.com"),
]

TEAMS = [
    ("system", "系統運維組", TeamKind.SYSTEM),
    ("network", "網絡運維組", TeamKind.NETWORK),
    ("desktop", "桌面運維組", TeamKind.DESKTOP),
    ("security", "信息安全組", TeamKind.SECURITY),
]

# username, display name, roles, team, department, staff. Change approvers and CAB members are staff:
# they approve and vote in the admin as well as on the pages; the problem manager keeps the problem policy there.
USERS = [
    ("supervisor", "陳主管", [roles.SUPERVISOR], None, None, True),
    ("sysadmin", "林系統", [roles.SYSTEM_ENGINEER], "system", None, False),
    ("neteng", "王網絡", [roles.NETWORK_ENGINEER], "network", None, False),
    ("desktop", "張桌面", [roles.DESKTOP_ENGINEER], "desktop", None, False),
    ("security", "黃安全", [roles.SYSTEM_ENGINEER], "security", None, False),
    ("duty", "李值班", [roles.DUTY_OFFICER], "system", None, False),
    ("problem", "吳問題", [roles.PROBLEM_MANAGER], "system", None, True),
    ("approver", "周審批", [roles.CHANGE_APPROVER], None, None, True),
    ("cab", "鄭評審", [roles.CAB_MEMBER], "network", None, True),
    ("cab2", "馮評審", [roles.CAB_MEMBER], "system", None, True),
    ("cab3", "孫評審", [roles.CAB_MEMBER], "security", None, True),
    ("release", "許發布", [roles.RELEASE_MANAGER], "system", None, False),
    ("finance", "蔡財務", [roles.DEPARTMENT_USER], None, "finance", False),
    ("auditor", "何稽核", [roles.AUDITOR], None, None, False),
]

SERVICES = [
    ("email", "郵件系統", Criticality.HIGH, "system", "admin", "7×24"),
    ("erp", "ERP 企業資源規劃系統", Criticality.CRITICAL, "system", "finance", "7×24"),
    ("finance-ledger", "財務核算系統", Criticality.CRITICAL, "system", "finance", "週一至週五 08:00–17:00"),
    ("hr-payroll", "人事薪資系統", Criticality.HIGH, "system", "hr", "週一至週五 08:00–17:00"),
    ("oa", "OA 辦公自動化", Criticality.MEDIUM, "system", "admin", "週一至週五 08:00–17:00"),
    ("crm", "CRM 客戶關係管理", Criticality.HIGH, "system", "sales", "週一至週六 08:00–20:00"),
    ("website", "官方網站", Criticality.HIGH, "system", "service-desk", "7×24"),
    ("office-network", "辦公網絡", Criticality.CRITICAL, "network", "admin", "7×24"),
    ("vpn", "VPN 遠端接入", Criticality.MEDIUM, "network", "sales", "7×24"),
    ("file-share", "文件共享服務", Criticality.MEDIUM, "system", "admin", "週一至週五 08:00–17:00"),
    ("desktop-support", "辦公桌面與列印", Criticality.LOW, "desktop", "admin", "週一至週五 08:00–17:00"),
]

# asset tag, name, type, location, team, services
CONFIGURATION_ITEMS = [
    ("SRV-0001", "erp-app-01", CIType.SERVER, "主機房 A 排 03 櫃", "system", ["erp"]),
    ("SRV-0002", "erp-app-02", CIType.SERVER, "主機房 A 排 03 櫃", "system", ["erp"]),
    ("DB-0001", "erp-db-01 (Oracle 19c)", CIType.DATABASE, "主機房 A 排 05 櫃", "system", ["erp", "finance-ledger"]),
    ("SRV-0003", "mail-01 (Exchange)", CIType.SERVER, "主機房 B 排 01 櫃", "system", ["email"]),
    ("SRV-0004", "oa-web-01", CIType.SERVER, "主機房 B 排 02 櫃", "system", ["oa"]),
    ("SRV-0005", "hr-app-01", CIType.SERVER, "主機房 B 排 02 櫃", "system", ["hr-payroll"]),
    ("SRV-0006", "crm-app-01", CIType.SERVER, "主機房 B 排 04 櫃", "system", ["crm"]),
    ("SRV-0007", "web-01 (Nginx)", CIType.SERVER, "DMZ 區 01 櫃", "system", ["website"]),
    ("STO-0001", "san-01 存儲陣列", CIType.STORAGE, "主機房 A 排 07 櫃", "system", ["erp", "email", "file-share"]),
    ("APP-0001", "財務核算軟件 V8", CIType.APPLICATION, "—", "system", ["finance-ledger"]),
    ("NET-0001", "core-sw-01 核心交換機", CIType.NETWORK_DEVICE, "主機房網絡櫃", "network",
     ["office-network", "erp", "email"]),
    ("NET-0002", "core-sw-02 核心交換機", CIType.NETWORK_DEVICE, "主機房網絡櫃", "network", ["office-network"]),
    ("NET-0003", "edge-rt-01 出口路由器", CIType.NETWORK_DEVICE, "主機房網絡櫃", "network",
     ["office-network", "vpn", "website"]),
    ("SEC-0001", "fw-01 防火牆", CIType.SECURITY_DEVICE, "主機房網絡櫃", "security",
     ["office-network", "vpn", "website"]),
    ("NET-0004", "vpn-gw-01 VPN 網關", CIType.NETWORK_DEVICE, "DMZ 區 02 櫃", "network", ["vpn"]),
    ("SRV-0008", "fs-01 文件服務器", CIType.SERVER, "主機房 B 排 05 櫃", "system", ["file-share"]),
    ("PC-0101", "財務部 PC-0101", CIType.DESKTOP, "3F 財務部", "desktop", ["desktop-support"]),
    ("PC-0102", "財務部 PC-0102", CIType.DESKTOP, "3F 財務部", "desktop", ["desktop-support"]),
    ("PRN-0301", "3F 多功能影印機", CIType.PRINTER, "3F 影印室", "desktop", ["desktop-support"]),
]


@transaction.atomic
def seed_organisation(password: str) -> list[tuple[str, str, str]]:
    """Create or refresh the demo organisation; returns (username, role, display name) per demo user."""
    departments = {}
    for code, name, email in DEPARTMENTS:
        departments[code], _c = Department.objects.update_or_create(
            code=code, defaults={"name": name, "contact_email": email})
    teams = {}
    for code, name, kind in TEAMS:
        teams[code], _c = Team.objects.update_or_create(
            code=code, defaults={"name": name, "kind": kind, "email": f"{code}-team@example.com"})
    signins = []
    for username, display, role_names, team, department, staff in USERS:
        user, created = User.objects.get_or_create(username=username, defaults={
            "display_name": display, "email": f"{username}@example.com",
            "department": departments.get(department), "is_staff": staff})
        if created:
            user.set_password(password)
            user.save()
        elif staff and not user.is_staff:  # a role that works in the admin gained it since the last run
            User.objects.filter(pk=user.pk).update(is_staff=True)
        user.groups.set(Group.objects.filter(name__in=role_names))
        if team:
            teams[team].members.add(user)
        signins.append((username, str(roles.ROLE_LABELS[role_names[0]]), display))
    teams["security"].lead = User.objects.get(username="security")
    teams["security"].save()
    services = {}
    for code, name, criticality, team, department, hours in SERVICES:
        services[code], _c = Service.objects.update_or_create(code=code, defaults={
            "name": name, "criticality": criticality, "support_team": teams[team],
            "owner_department": departments[department], "service_hours": hours})
    for tag, name, ci_type, location, team, service_codes in CONFIGURATION_ITEMS:
        ci, _c = ConfigurationItem.objects.update_or_create(asset_tag=tag, defaults={
            "name": name, "ci_type": ci_type, "location": location, "owner_team": teams[team],
            "status": CIStatus.IN_USE})
        ci.services.set([services[c] for c in service_codes])
    return signins


# --- A clock the services read: timezone.now() and every field default that calls it ---

class _ClockMeta(type):
    def __instancecheck__(cls, obj: object) -> bool:
        return isinstance(obj, dt.datetime)


class Clock:
    """Stands in for django.utils.timezone's datetime so that timezone.now() returns `current`."""

    def __init__(self) -> None:
        self.current: dt.datetime | None = None

    def set(self, when: dt.datetime) -> None:
        self.current = when


@contextlib.contextmanager
def stepped_clock() -> Iterator[Clock]:
    """While open, timezone.now() (and defaults such as created_at) read the clock, unless it is unset."""
    clock = Clock()

    class ClockDatetime(dt.datetime, metaclass=_ClockMeta):
        @classmethod
        def now(cls, tz: dt.tzinfo | None = None) -> dt.datetime:  # type: ignore[override]
            if clock.current is None:
                return dt.datetime.now(tz)
            return clock.current.astimezone(tz) if tz else clock.current.replace(tzinfo=None)

    with mock.patch("django.utils.timezone.datetime", ClockDatetime):
        yield clock


def last_notification_id() -> int:
    """The outbox's highest id before a demo writes (settle_notifications takes it)."""
    return Notification.objects.aggregate(last=Max("pk"))["last"] or 0


def settle_notifications(after_pk: int, now: dt.datetime, *, finished: QuerySet | None = None,
                         events: tuple[str, ...] = ()) -> None:
    """Notifications written while seeding were delivered when written (never handed to the broker): in-app ones
    older than two days are read, and so are those of `events` about tickets `finished` (numbers) by the time the
    demo ends, so that no inbox opens on dozens of notices of incidents closed months ago."""
    seeded = Notification.objects.filter(pk__gt=after_pk)
    seeded.update(status=DeliveryStatus.SENT, sent_at=F("created_at"), attempts=1)
    in_app = seeded.filter(channel=Channel.IN_APP, read_at__isnull=True)
    in_app.filter(created_at__lt=now - dt.timedelta(days=2)).update(read_at=F("created_at"))
    if finished is not None:
        in_app.filter(event__in=events, ticket__in=finished).update(read_at=F("created_at"))


@contextlib.contextmanager
def demo_writes() -> Iterator[tuple[Clock, dt.datetime]]:
    """Where a demo writes its records: on a stepped clock (yielded with the moment it started), in one transaction,
    its notifications never handed to the broker and settled once it is done (settle_notifications)."""
    from django.utils import timezone

    last_notification = last_notification_id()
    now = timezone.now()
    with stepped_clock() as clock, mock.patch("opscenter.core.outbox.enqueue_delivery"), transaction.atomic():
        yield clock, now
    settle_notifications(last_notification, now)
