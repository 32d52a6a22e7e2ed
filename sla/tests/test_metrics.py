"""Monthly figures: availability within service hours against its target, compliance per priority target,
MTTA and MTTR, breaches, the 12-month trend; queries that do not grow with the rows."""

from datetime import date, datetime, time, timedelta
from decimal import Decimal

import pytest
from django.utils import timezone

from sla import metrics
from sla.choices import ClockKind, OutageKind
from sla.clocks import default_calendar
from sla.tests.factories import at, office_calendar
from sla.tests.figures import APRIL, april, incident, outage, stopped_clock

pytestmark = pytest.mark.django_db
LATER = at("2026-06-15 12:00")


def test_fifty_minutes_of_outage_in_a_thirty_day_month_against_99_9_is_99_884_and_breached() -> None:
    start, end = metrics.month_bounds(APRIL)
    began = at("2026-04-10 03:00")
    figure = metrics.availability_between(calendar=default_calendar(), start=start, end=end,
                                          outages=[(began, began + timedelta(minutes=50), OutageKind.FULL)],
                                          target=Decimal("99.9"))
    assert figure.service_seconds == 30 * 24 * 3600
    assert figure.percent == Decimal("99.884")
    assert figure.breached


def test_the_department_month_shows_the_same_availability() -> None:
    month = april()
    figures = metrics.department_month(month.department.pk, APRIL, now=LATER)
    [row] = figures["availability"]
    assert row["availability"] == 99.884 and row["target"] == 99.9 and row["breached"]
    assert figures["services_breached"] == 1


def test_a_partial_outage_counts_half_and_overlaps_count_once() -> None:
    start, end = metrics.month_bounds(APRIL)
    began = at("2026-04-10 03:00")
    minutes = timedelta(minutes=1)
    full = (began, began + 30 * minutes, OutageKind.FULL)
    # A partial outage of 60 minutes of which 30 lie under the full one: 30 + 30/2 minutes lost.
    partial = (began, began + 60 * minutes, OutageKind.PARTIAL)
    twice = (began, began + 10 * minutes, OutageKind.FULL)
    figure = metrics.availability_between(calendar=default_calendar(), start=start, end=end,
                                          outages=[full, partial, twice], target=Decimal("99.9"))
    assert figure.downtime_seconds == Decimal(45 * 60)


def test_availability_counts_only_service_hours() -> None:
    """An outage at night on an office-hours service costs nothing; one at 10:00 counts its business time."""
    calendar = office_calendar()
    start, end = metrics.month_bounds(APRIL)
    night, day = at("2026-04-07 20:00"), at("2026-04-08 16:00")
    figure = metrics.availability_between(calendar=calendar, start=start, end=end, target=Decimal("99"),
                                          outages=[(night, night + timedelta(hours=3), OutageKind.FULL),
                                                   (day, day + timedelta(hours=2), OutageKind.FULL)])
    assert figure.service_seconds == 22 * 9 * 3600  # 22 working days in April 2026
    assert figure.downtime_seconds == 3600  # 16:00–17:00 only


def test_an_outage_still_lasting_counts_up_to_the_end_of_the_period() -> None:
    start, end = metrics.month_bounds(APRIL)
    figure = metrics.availability_between(calendar=default_calendar(), start=start, end=end, target=None,
                                          outages=[(at("2026-04-30 23:00"), None, OutageKind.FULL)])
    assert figure.downtime_seconds == 3600
    assert not figure.breached


def test_compliance_mtta_mttr_and_breaches_of_a_known_month() -> None:
    month = april()
    figures = metrics.department_month(month.department.pk, APRIL, now=LATER)
    by_kind = {r["kind"]: r for r in figures["compliance"]}
    assert by_kind[ClockKind.RESPONSE] == {"priority": "P2", "kind": "response", "total": 3, "met": 2,
                                           "percent": 66.7, "target_minutes": 30, "target_day_minutes": None,
                                           "target_round_the_clock": True}
    assert by_kind[ClockKind.RESOLUTION]["total"] == 2 and by_kind[ClockKind.RESOLUTION]["met"] == 1
    assert by_kind[ClockKind.RESOLUTION]["target_minutes"] == 480
    assert figures["compliance_percent"] == 60.0  # 3 of 5 clocks
    assert figures["response_percent"] == 66.7 and figures["resolution_percent"] == 50.0
    assert figures["mtta_seconds"] == 1600  # (10 + 50 + 20) / 3 minutes
    assert figures["mttr_seconds"] == 360 * 60
    assert figures["incidents_responded"] == 3 and figures["incidents_resolved"] == 2
    assert figures["breaches"] == 2 and figures["unexplained_breaches"] == 2


def test_a_clock_within_its_time_but_with_a_recorded_breach_is_not_met() -> None:
    month = april()
    late = incident(month.department, "2026-04-20 09:00", responded=5, priority="P2")
    stopped_clock(late, ClockKind.RESPONSE, priority="P2", elapsed_minutes=5, target_minutes=30,
                  stopped="2026-04-20 09:05", breached=True)
    figures = metrics.department_month(month.department.pk, APRIL, now=LATER)
    response = next(r for r in figures["compliance"] if r["kind"] == ClockKind.RESPONSE)
    assert (response["met"], response["total"]) == (2, 4)


def test_another_month_and_another_department_count_nowhere() -> None:
    month = april()
    other = april("Logistics")
    may = incident(month.department, "2026-05-03 09:00", responded=100, resolved=200, priority="P2")
    stopped_clock(may, ClockKind.RESPONSE, priority="P2", elapsed_minutes=100, target_minutes=30,
                  stopped="2026-05-03 10:40")
    figures = metrics.department_month(month.department.pk, APRIL, now=LATER)
    assert figures["clocks_stopped"] == 5 and figures["incidents_resolved"] == 2
    assert metrics.department_month(other.department.pk, APRIL, now=LATER)["clocks_stopped"] == 5
    assert metrics.department_month(month.department.pk, date(2026, 5, 1), now=LATER)["clocks_stopped"] == 1


def test_the_running_month_is_measured_up_to_now() -> None:
    month = april()
    now = at("2026-04-11 00:00")
    [row] = metrics.department_month(month.department.pk, APRIL, now=now)["availability"]
    assert row["service_seconds"] == 10 * 24 * 3600


def test_a_month_boundary_follows_the_local_time_zone() -> None:
    """A clock stopped at 23:30 local time on 30 April belongs to April even though it is still 15:30 UTC."""
    month = april()
    last = incident(month.department, "2026-04-30 23:00", responded=30, priority="P2")
    stopped_clock(last, ClockKind.RESPONSE, priority="P2", elapsed_minutes=30, target_minutes=30,
                  stopped="2026-04-30 23:30")
    assert metrics.department_month(month.department.pk, APRIL, now=LATER)["clocks_stopped"] == 6


def test_the_trend_has_twelve_months_oldest_first() -> None:
    month = april()
    trend = metrics.department_trend(month.department.pk, date(2026, 5, 1), now=LATER)
    assert [t["month"] for t in trend][0] == "2025-06" and trend[-1]["month"] == "2026-05"
    assert len(trend) == 12
    april_figures = next(t for t in trend if t["month"] == "2026-04")
    assert april_figures["clocks_stopped"] == 5 and april_figures["availability"][0]["availability"] == 99.884
    assert trend[-1]["clocks_stopped"] == 0 and trend[-1]["availability"][0]["availability"] == 100.0


def test_side_by_side_keeps_departments_apart() -> None:
    finance, logistics = april(), april("Logistics")
    incident(logistics.department, "2026-04-09 09:00", responded=5, resolved=5, priority="P2")
    figures = metrics.departments_side_by_side(APRIL, now=LATER)
    assert figures[finance.department.pk]["incidents_resolved"] == 2
    assert figures[logistics.department.pk]["incidents_resolved"] == 3


@pytest.mark.parametrize("extra", [0, 6])
def test_queries_do_not_grow_with_rows(django_assert_num_queries, extra: int) -> None:
    month = april()
    for n in range(extra):
        row = incident(month.department, f"2026-04-{10 + n:02d} 09:00", responded=5, resolved=50, priority="P2")
        stopped_clock(row, ClockKind.RESPONSE, priority="P2", elapsed_minutes=5, target_minutes=30,
                      stopped=f"2026-04-{10 + n:02d} 09:05")
        outage(month.service, row, f"2026-04-{10 + n:02d} 01:00", 5, by=month.engineer)
    # Published months, agreements (+ their calendar's intervals, exceptions), priority targets, compliance,
    # MTTA, MTTR, breaches, service targets (their own calendar is empty here), outages.
    with django_assert_num_queries(11):
        metrics.department_trend(month.department.pk, APRIL, now=LATER)


def test_month_helpers() -> None:
    assert metrics.add_months(date(2026, 1, 1), -1) == date(2025, 12, 1)
    assert metrics.add_months(date(2026, 12, 1), 1) == date(2027, 1, 1)
    start, end = metrics.month_bounds(date(2026, 4, 17))
    zone = timezone.get_default_timezone()
    assert start == datetime.combine(date(2026, 4, 1), time.min, tzinfo=zone)
    assert end == datetime.combine(date(2026, 5, 1), time.min, tzinfo=zone)


def test_the_trend_reads_published_months_back_and_computes_the_others(supervisor, django_assert_num_queries) -> None:  # noqa: ANN001
    """A published month is the rollup of its figures: the trend reads it back frozen, even after the data
    underneath changed, and computes only the months not published (here May alone: one span)."""
    from sla.evaluations import evaluation_prepare, evaluation_publish
    from sla.tests.figures import explain_all

    month = april()
    explain_all(month, supervisor)
    evaluation_publish(evaluation=evaluation_prepare(department=month.department, month=APRIL, user=supervisor),
                       user=supervisor, summary="April")
    late = incident(month.department, "2026-04-20 09:00", responded=5, resolved=50, priority="P2")
    stopped_clock(late, ClockKind.RESPONSE, priority="P2", elapsed_minutes=5, target_minutes=30,
                  stopped="2026-04-20 09:05")
    may = metrics.add_months(APRIL, 1)
    trend = metrics.department_trend(month.department.pk, may, count=2, now=LATER)
    assert [m["month"] for m in trend] == ["2026-04", "2026-05"]
    assert trend[0]["clocks_stopped"] == 5 and trend[0]["response_percent"] == 66.7  # as published
    assert metrics.department_month(month.department.pk, APRIL, now=LATER)["clocks_stopped"] == 6  # live
