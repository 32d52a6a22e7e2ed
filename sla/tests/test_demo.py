"""The demo service levels: agreements with every department, twelve months of clocks, breaches explained
(a couple not yet), past months published, consistent timelines, loaded once."""

import io

import pytest
from django.db.models import Count, Sum
from django.db.models.functions import TruncMonth
from django.utils import timezone

from incidents import demo as incident_demo
from incidents.models import Incident
from opscenter.core.choices import DeliveryStatus
from opscenter.core.demo import seed_organisation
from opscenter.core.models import Department, Notification
from sla import demo, metrics
from sla.choices import ClockKind, ClockState, EvaluationState, ExceptionKind
from sla.models import Agreement, Breach, BusinessCalendar, Clock, ClockEvent, Evaluation, Outage, ServiceTarget

pytestmark = pytest.mark.django_db


def load() -> str:
    """The organisation, the incident demo and the service level demo, as seed_demo loads them."""
    seed_organisation("pw")
    out = io.StringIO()
    incident_demo.seed(stdout=out)
    demo.seed(stdout=out)
    return out.getvalue()


def test_the_demo_fills_twelve_months_of_service_levels_and_loads_once() -> None:
    """One load (it takes a while), every check of it in turn."""
    seeded = load()
    agreements_on_office_hours_with_make_up_workdays(seeded)
    twelve_months_of_clocks_every_month_with_targets()
    breaches_explained_but_a_couple_and_past_months_published()
    dashboard_figures_read_for_twelve_months()
    nothing_left_to_deliver_and_a_second_run_does_nothing()


def agreements_on_office_hours_with_make_up_workdays(seeded: str) -> None:
    assert "Demo service levels:" in seeded, seeded
    assert Agreement.objects.values("department").distinct().count() == Department.objects.count()
    office = BusinessCalendar.objects.get(name=demo.OFFICE)
    assert office.holiday_country == "CN"
    assert office.exceptions.filter(kind=ExceptionKind.WORKDAY).count() >= 2
    assert ServiceTarget.objects.filter(service__code="erp").exists()
    finance = Agreement.objects.get(department__code="finance")
    assert finance.priority_targets.get(priority="P1").calendar.is_24x7
    assert sorted(finance.thresholds.values_list("percent", flat=True)) == [50, 75, 90, 100]


def twelve_months_of_clocks_every_month_with_targets() -> None:
    months = metrics.trend_months(metrics.current_month(), 12)
    start = metrics.month_bounds(months[0])[0]
    per_month = dict(Clock.objects.filter(started_at__gte=start, kind=ClockKind.RESOLUTION,
                                          target_seconds__isnull=False)
                     .annotate(month=TruncMonth("started_at")).values("month")
                     .annotate(n=Count("pk")).values_list("month", "n"))
    counted = {timezone.localdate(m).replace(day=1) if hasattr(m, "hour") else m: n for m, n in per_month.items()}
    assert all(counted.get(month, 0) >= 5 for month in months), counted
    # Every incident has its clocks, and a stopped clock's elapsed time is the sum of its timeline.
    assert not Incident.objects.filter(sla_clocks__isnull=True).exists()
    for clock in Clock.objects.filter(state=ClockState.STOPPED).order_by("?")[:50]:
        total = ClockEvent.objects.filter(clock=clock).aggregate(s=Sum("segment_seconds"))["s"]
        assert total == clock.elapsed_seconds


def breaches_explained_but_a_couple_and_past_months_published() -> None:
    assert Breach.objects.count() >= 10
    unexplained = [b for b in Breach.objects.all() if not b.is_explained]
    assert len(unexplained) == demo.LEFT_UNEXPLAINED
    assert Outage.objects.filter(kind="full").exists() and Outage.objects.filter(kind="partial").exists()
    published = Evaluation.objects.filter(state=EvaluationState.PUBLISHED)
    assert published.values("month").distinct().count() >= 10
    assert all(e.figures and e.published_at for e in published[:20])
    # The month holding the unexplained breaches stays a draft for their department.
    breach = unexplained[0]
    month = metrics.month_start(timezone.localdate(breach.breached_at))
    assert Evaluation.objects.get(department_id=breach.department_id, month=month).state == EvaluationState.DRAFT


def dashboard_figures_read_for_twelve_months() -> None:
    finance = Department.objects.get(code="finance")
    trend = metrics.department_trend(finance.pk, metrics.current_month())
    assert len(trend) == 12


def nothing_left_to_deliver_and_a_second_run_does_nothing() -> None:
    assert not Notification.objects.exclude(status=DeliveryStatus.SENT).exists()
    counts = (Clock.objects.count(), Breach.objects.count(), Evaluation.objects.count(), Incident.objects.count())
    out = io.StringIO()
    demo.seed(stdout=out)
    assert "skipped" in out.getvalue()
    assert (Clock.objects.count(), Breach.objects.count(), Evaluation.objects.count(),
            Incident.objects.count()) == counts
