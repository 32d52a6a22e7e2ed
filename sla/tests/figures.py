"""Known sets of figures for the metrics, evaluation, dashboard and API tests: incidents, stopped clocks,
breaches and outages written as rows at chosen instants of April 2026 (a 30-day month)."""

from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal

from incidents.tests.factories import IncidentFactory
from opscenter.core import roles
from opscenter.core.models import Department, Service, User
from opscenter.core.tests.factories import DepartmentFactory, ServiceFactory, UserFactory
from sla.choices import ClockKind, ClockState, OutageKind
from sla.clocks import default_calendar
from sla.models import Agreement, Breach, Clock, Outage, ServiceTarget
from sla.tests.factories import agreement, at

APRIL = date(2026, 4, 1)


@dataclass
class Month:
    """A department with an agreement, a 99.9% service on 7×24, and its April figures."""

    department: Department
    agreement: Agreement
    service: Service
    engineer: User
    department_user: User


def incident(department: Department, reported: str, *, responded: int | None = None,
             resolved: int | None = None, **fields):  # noqa: ANN003, ANN201
    """An incident reported at `reported`, first responded to / resolved that many minutes later."""
    created = at(reported)
    return IncidentFactory(department=department, created_at=created,
                           first_response_at=created + timedelta(minutes=responded) if responded is not None else None,
                           resolved_at=created + timedelta(minutes=resolved) if resolved is not None else None,
                           **fields)


def stopped_clock(incident, kind: str, *, priority: str, elapsed_minutes: int, target_minutes: int,  # noqa: ANN001
                  stopped: str, breached: bool | None = None, agreement: Agreement | None = None) -> Clock:
    """A stopped response or resolution clock with its business minutes and target."""
    breached = elapsed_minutes > target_minutes if breached is None else breached
    return Clock.objects.create(
        incident=incident, kind=kind, department_id=incident.department_id, agreement=agreement,
        calendar=default_calendar(), priority=priority, target_seconds=target_minutes * 60,
        state=ClockState.STOPPED, started_at=incident.created_at, elapsed_seconds=elapsed_minutes * 60,
        stopped_at=at(stopped), breached=breached)


def breach_of(clock: Clock, when: str) -> Breach:
    return Breach.objects.create(clock=clock, incident_id=clock.incident_id, department_id=clock.department_id,
                                 kind=clock.kind, breached_at=at(when))


def outage(service: Service, incident, start: str, minutes: int, *, kind: str = OutageKind.FULL,  # noqa: ANN001
           by: User) -> Outage:
    began = at(start)
    return Outage.objects.create(incident=incident, service=service, started_at=began,
                                 ended_at=began + timedelta(minutes=minutes), kind=kind, recorded_by=by)


def april(name: str = "Finance") -> Month:
    """A department whose April has a 50-minute outage of a 99.9% service on 7×24 (99.884%: below target) and,
    over P2 targets of
    30 minutes (response) and 480 minutes (resolution):
    incident A responded in 10 min, resolved in 120 — both met;
    incident B responded in 50 min (breached), resolved in 600 (breached);
    incident C responded in 20 min, not resolved.
    MTTA = (10 + 50 + 20) / 3 ≈ 26.67 min; MTTR = (120 + 600) / 2 = 360 min; response 2/3, resolution 1/2."""
    department = DepartmentFactory(name=name)
    terms = agreement(department, default_calendar(), targets={"P2": (30, 480)})
    service = ServiceFactory()
    ServiceTarget.objects.create(agreement=terms, service=service, availability=Decimal("99.900"))
    engineer = UserFactory(roles=[roles.SYSTEM_ENGINEER])
    reader = UserFactory(roles=[roles.DEPARTMENT_USER], department=department)
    a = incident(department, "2026-04-06 09:00", responded=10, resolved=120, priority="P2")
    b = incident(department, "2026-04-07 09:00", responded=50, resolved=600, priority="P2")
    c = incident(department, "2026-04-08 09:00", responded=20, priority="P2")
    stopped_clock(a, ClockKind.RESPONSE, priority="P2", elapsed_minutes=10, target_minutes=30,
                  stopped="2026-04-06 09:10", agreement=terms)
    stopped_clock(a, ClockKind.RESOLUTION, priority="P2", elapsed_minutes=120, target_minutes=480,
                  stopped="2026-04-06 11:00", agreement=terms)
    late = stopped_clock(b, ClockKind.RESPONSE, priority="P2", elapsed_minutes=50, target_minutes=30,
                         stopped="2026-04-07 09:50", agreement=terms)
    slow = stopped_clock(b, ClockKind.RESOLUTION, priority="P2", elapsed_minutes=600, target_minutes=480,
                         stopped="2026-04-07 19:00", agreement=terms)
    stopped_clock(c, ClockKind.RESPONSE, priority="P2", elapsed_minutes=20, target_minutes=30,
                  stopped="2026-04-08 09:20", agreement=terms)
    breach_of(late, "2026-04-07 09:30")
    breach_of(slow, "2026-04-07 17:00")
    outage(service, b, "2026-04-07 09:00", 50, by=engineer)
    return Month(department=department, agreement=terms, service=service, engineer=engineer,
                 department_user=reader)


def explain_all(month: Month, by: User) -> None:
    """Explain every breach of the department (as a supervisor or engineer would), its service's April
    availability below target (99.884% against 99.9%) included."""
    from sla.evaluations import availability_breaches_record

    availability_breaches_record(department_id=month.department.pk, month=APRIL)
    Breach.objects.filter(department=month.department).update(
        explanation="Database failover took longer than planned.", corrective_action="Rehearse the failover.",
        action_owner=by, action_due=date(2026, 5, 15), explained_by=by)


def two_departments() -> tuple[Month, Month]:
    """Finance and Logistics, each with its April; Logistics' service has a name to look for where it must
    not appear."""
    finance, logistics = april("Finance"), april("Logistics")
    logistics.service.name = "Warehouse scanning"
    logistics.service.save()
    return finance, logistics
