"""The service level admin: supervisors manage calendars and agreements (bad input is refused on the page
and nothing is saved), explain breaches; auditors read everything and change nothing; clocks and
evaluations are read-only; the changelists cost the same number of queries whatever their rows."""

from datetime import date, timedelta
from typing import Any

import pytest
from django.test import Client
from django.urls import reverse

from incidents.services import incident_report, incident_transition
from incidents.tests.factories import category
from opscenter.core import roles
from sla import metrics
from sla.businesstime import Schedule
from sla.models import (
    Agreement,
    Breach,
    BusinessCalendar,
    Clock,
    Evaluation,
    Outage,
    PriorityTarget,
    SurveyPolicy,
    TeamTarget,
    Threshold,
    WorkingInterval,
)
from sla.tests.factories import agreement, at, make_crew, office_calendar

pytestmark = pytest.mark.django_db

PAGES = ["businesscalendar", "agreement", "teamtarget", "clock", "breach", "outage", "evaluation", "surveypolicy"]


@pytest.fixture
def supervisor_client(supervisor: Any) -> Client:
    client = Client()
    client.force_login(supervisor)
    return client


@pytest.fixture
def auditor_client(make_user: Any) -> Client:
    client = Client()
    client.force_login(make_user(roles.AUDITOR, is_staff=True))
    return client


def url(model: str, action: str = "changelist", *args: Any) -> str:
    return reverse(f"admin:sla_{model}_{action}", args=args)


def inline(prefix: str, rows: list[dict[str, Any]], initial: int = 0) -> dict[str, Any]:
    """The management form and rows of an inline formset, as the browser posts them."""
    data = {f"{prefix}-TOTAL_FORMS": len(rows), f"{prefix}-INITIAL_FORMS": initial,
            f"{prefix}-MIN_NUM_FORMS": 0, f"{prefix}-MAX_NUM_FORMS": 1000}
    for i, row in enumerate(rows):
        data.update({f"{prefix}-{i}-{name}": value for name, value in row.items()})
    return data


def calendar_post(intervals: list[tuple[int, str, str]], **fields: Any) -> dict[str, Any]:
    return {"name": "Branch office", "time_zone": "Asia/Shanghai", "holiday_country": "CN",
            "holiday_subdivision": "", **fields,
            **inline("intervals", [{"weekday": d, "start": s, "end": e} for d, s, e in intervals]),
            **inline("exceptions", [])}


def agreement_post(department: Any, calendar: BusinessCalendar, *, priority: dict[str, Any],
                   percent: int = 75) -> dict[str, Any]:
    return {"department": department.pk, "name": "IT services 2027", "valid_from": "2027-01-01", "valid_until": "",
            "calendar": calendar.pk, "is_active": "on", **inline("service_targets", []),
            **inline("priority_targets", [{"priority": "P1", **priority}]),
            **inline("thresholds", [{"percent": percent, "notify_assignee": "on"}])}


def errors(response: Any) -> str:
    """Every error the page shows: the form's and its inlines'."""
    assert response.status_code == 200, response.status_code
    texts = [str(response.context["adminform"].form.errors)]
    for formset in response.context["inline_admin_formsets"]:
        texts += [str(e) for e in formset.formset.errors] + [str(formset.formset.non_form_errors())]
    return " ".join(texts)


def reported(crew: Any, when: str = "2026-11-02 09:00") -> Any:
    incident = incident_report(recorder=crew.duty, data={
        "title": "ERP 登入失敗", "description": "d", "occurred_at": at(when), "impact_scope": "s",
        "channel": "phone", "caller": crew.caller})
    return incident_transition(incident, "classify", user=crew.duty,
                               data={"category": category(), "impact": 2, "urgency": 2})


@pytest.fixture
def records(supervisor: Any) -> dict[str, Any]:
    """An agreement, an incident with clocks, a breach, an outage and a published evaluation."""
    crew = make_crew(supervisor=supervisor)
    terms = agreement(crew.department, office_calendar(), targets={"P3": (60, 600)})
    TeamTarget.objects.create(team=crew.team, priority="P3", resolution_minutes=480, calendar=terms.calendar)
    incident = reported(crew)
    clock = Clock.objects.get(incident=incident, kind="response")
    breach = Breach.objects.create(clock=clock, incident=incident, department=crew.department, kind="response",
                                   breached_at=at("2026-11-02 10:00"))
    outage = Outage.objects.create(incident=incident, service=_service(), started_at=at("2026-11-02 09:00"),
                                   ended_at=at("2026-11-02 09:50"), recorded_by=supervisor)
    evaluation = Evaluation.objects.create(department=crew.department, month=date(2025, 10, 1),
                                           state="published", figures={"compliance": 98.5, "mttr_minutes": 42})
    return {"crew": crew, "agreement": terms, "calendar": terms.calendar, "clock": clock, "breach": breach,
            "outage": outage, "evaluation": evaluation, "incident": incident}


def _service() -> Any:
    from opscenter.core.tests.factories import ServiceFactory

    return ServiceFactory()


# --- pages render ---------------------------------------------------------------------------------------

@pytest.mark.parametrize("model", PAGES)
def test_every_list_renders_for_the_supervisor_and_the_auditor(supervisor_client: Client, auditor_client: Client,
                                                               records: dict[str, Any], model: str) -> None:
    for client in (supervisor_client, auditor_client):
        response = client.get(url(model))
        assert response.status_code == 200, (model, response.status_code)
        assert response.context["cl"].result_count >= 1


@pytest.mark.parametrize("name", ["calendar", "agreement", "clock", "breach", "outage", "evaluation"])
def test_change_pages_render_and_the_auditor_only_reads(supervisor_client: Client, auditor_client: Client,
                                                        records: dict[str, Any], name: str) -> None:
    obj = records[name]
    link = url(obj._meta.model_name, "change", obj.pk)
    assert supervisor_client.get(link).status_code == 200
    page = auditor_client.get(link)
    assert page.status_code == 200
    assert 'name="_save"' not in page.content.decode()
    assert not page.context["adminform"].form.fields
    assert auditor_client.post(link, {"name": "changed"}).status_code == 403


def test_a_clock_shows_its_timeline_and_thresholds_and_is_never_edited(supervisor_client: Client,
                                                                       records: dict[str, Any]) -> None:
    clock = records["clock"]
    page = supervisor_client.get(url("clock", "change", clock.pk))
    content = page.content.decode()
    assert "Reported" in content and "Re-targeted" in content  # the start and the classification
    assert 'name="_save"' not in content
    assert supervisor_client.get(url("clock", "add")).status_code == 403
    assert supervisor_client.get(url("clock", "delete", clock.pk)).status_code == 403


def test_evaluations_are_read_with_their_figures_never_edited_here(supervisor_client: Client,
                                                                    records: dict[str, Any]) -> None:
    evaluation = records["evaluation"]
    page = supervisor_client.get(url("evaluation", "change", evaluation.pk))
    assert "mttr_minutes" in page.content.decode() and 'name="_save"' not in page.content.decode()
    supervisor_client.post(url("evaluation", "change", evaluation.pk), {"summary": "rewritten"})
    evaluation.refresh_from_db()
    assert evaluation.summary == "" and evaluation.state == "published"
    assert supervisor_client.get(url("evaluation", "add")).status_code == 403


def test_publishing_waits_for_every_breach_to_be_explained(supervisor_client: Client, supervisor: Any,
                                                           records: dict[str, Any]) -> None:
    breach = records["breach"]
    month = metrics.add_months(metrics.current_month(), -1)
    Breach.objects.filter(pk=breach.pk).update(breached_at=metrics.month_bounds(month)[0] + timedelta(days=4))
    draft = Evaluation.objects.create(department=breach.department, month=month)
    publish = {"action": "publish_selected", "_selected_action": [draft.pk]}
    response = supervisor_client.post(url("evaluation"), publish, follow=True)
    assert any("refused" in str(m) for m in response.context["messages"])
    draft.refresh_from_db()
    assert draft.state == "draft" and draft.published_at is None

    Breach.objects.filter(pk=breach.pk).update(explanation="交接遺漏", corrective_action="加入清單",
                                               action_owner=supervisor, action_due=date(2026, 12, 15))
    response = supervisor_client.post(url("evaluation"), publish, follow=True)
    assert any("published" in str(m) for m in response.context["messages"])
    draft.refresh_from_db()
    assert draft.state == "published" and draft.figures["breach_list"][0]["explanation"] == "交接遺漏"


def test_the_admin_refuses_to_publish_a_month_whose_availability_miss_is_unexplained(
        supervisor_client: Client, supervisor: Any) -> None:
    from sla.tests.figures import APRIL, april

    month = april()
    Breach.objects.filter(department=month.department).update(
        explanation="慢", corrective_action="演練", action_owner=supervisor, action_due=date(2026, 5, 15))
    draft = Evaluation.objects.create(department=month.department, month=APRIL)
    response = supervisor_client.post(url("evaluation"), {"action": "publish_selected",
                                                          "_selected_action": [draft.pk]}, follow=True)
    assert any("refused" in str(m) and "1 left" in str(m) for m in response.context["messages"])
    draft.refresh_from_db()
    assert draft.state == "draft"
    missed = Breach.objects.get(kind="availability")
    page = supervisor_client.get(url("breach", "change", missed.pk)).content.decode()
    assert month.service.name in page


def test_the_auditor_has_no_evaluation_actions(auditor_client: Client, records: dict[str, Any]) -> None:
    evaluation = records["evaluation"]
    response = auditor_client.post(url("evaluation"), {"action": "publish_selected",
                                                       "_selected_action": [evaluation.pk]})
    assert response.status_code in (200, 302)
    assert "publish_selected" not in auditor_client.get(url("evaluation")).content.decode()


# --- calendars -------------------------------------------------------------------------------------------

def test_a_calendar_with_split_days_is_saved(supervisor_client: Client) -> None:
    response = supervisor_client.post(url("businesscalendar", "add"), calendar_post(
        [(0, "08:00", "12:00"), (0, "13:00", "17:00"), (1, "08:00", "17:00")]))
    assert response.status_code == 302
    calendar = BusinessCalendar.objects.get(name="Branch office")
    assert calendar.intervals.count() == 3


@pytest.mark.parametrize(("intervals", "fields", "message"), [
    ([(0, "08:00", "12:00"), (0, "11:00", "17:00")], {}, "overlaps another one of the same day"),
    ([(0, "12:00", "08:00")], {}, "must end after it starts"),
    ([], {"time_zone": "Mars/Olympus"}, "Unknown time zone"),
    ([], {"holiday_country": "XX"}, "does not know this country"),
])
def test_bad_calendars_are_refused_on_the_page_and_nothing_is_saved(
        supervisor_client: Client, intervals: list, fields: dict, message: str) -> None:
    response = supervisor_client.post(url("businesscalendar", "add"), calendar_post(intervals, **fields))
    assert message in errors(response)
    assert not BusinessCalendar.objects.filter(name="Branch office").exists()
    assert not WorkingInterval.objects.filter(calendar__name="Branch office").exists()


def test_an_overlap_with_a_saved_interval_is_refused(supervisor_client: Client) -> None:
    calendar = office_calendar("Head office")
    saved = calendar.intervals.order_by("weekday")
    rows = [{"id": i.pk, "calendar": calendar.pk, "weekday": i.weekday, "start": "08:00", "end": "17:00"}
            for i in saved]
    rows.append({"calendar": calendar.pk, "weekday": 0, "start": "16:00", "end": "18:00"})
    data = {"name": calendar.name, "time_zone": "Asia/Shanghai", "holiday_country": "", "holiday_subdivision": "",
            **inline("intervals", rows, initial=len(saved)), **inline("exceptions", [])}
    response = supervisor_client.post(url("businesscalendar", "change", calendar.pk), data)
    assert "overlaps" in errors(response)
    assert calendar.intervals.count() == 5


def test_editing_a_calendar_recomputes_its_open_clocks(supervisor_client: Client, supervisor: Any) -> None:
    crew = make_crew(supervisor=supervisor)
    terms = agreement(crew.department, office_calendar("Head office"), targets={"P3": (60, 600)})
    clock = Clock.objects.get(incident=reported(crew), kind="resolution")
    calendar = terms.calendar
    before = calendar.version
    rows = [{"id": i.pk, "calendar": calendar.pk, "weekday": i.weekday, "start": "10:00", "end": "12:00"}
            for i in calendar.intervals.order_by("weekday")]
    data = {"name": calendar.name, "time_zone": "Asia/Shanghai", "holiday_country": "", "holiday_subdivision": "",
            **inline("intervals", rows, initial=5), **inline("exceptions", [])}
    assert supervisor_client.post(url("businesscalendar", "change", calendar.pk), data).status_code == 302
    clock.refresh_from_db()
    calendar.refresh_from_db()
    assert calendar.version > before and clock.calendar_version == calendar.version
    # Two working hours a day now: the deadline is where the new calendar puts the time still left.
    left = clock.target_seconds - clock.elapsed_seconds
    assert clock.due_at == Schedule(calendar).add(clock.segment_started_at, left)


# --- agreements ------------------------------------------------------------------------------------------

def test_an_agreement_with_its_targets_is_saved(supervisor_client: Client, records: dict[str, Any]) -> None:
    crew, calendar = records["crew"], records["calendar"]
    response = supervisor_client.post(url("agreement", "add"), agreement_post(
        crew.department, calendar, priority={"response_minutes": 15, "resolution_minutes": 240}))
    assert response.status_code == 302
    saved = Agreement.objects.get(name="IT services 2027")
    assert saved.priority_targets.get().response_minutes == 15 and saved.thresholds.get().percent == 75


@pytest.mark.parametrize(("priority", "percent", "message"), [
    ({"response_minutes": 0, "resolution_minutes": 240}, 75, "greater than zero"),
    ({"response_minutes": -5, "resolution_minutes": 240}, 75, "greater than or equal to 0"),
    ({"response_minutes": 15, "resolution_minutes": 240}, 120, "less than or equal to 100"),
    ({"response_minutes": 15, "resolution_minutes": 240}, 0, "greater than or equal to 1"),
])
def test_bad_targets_and_thresholds_are_refused_and_nothing_is_saved(
        supervisor_client: Client, records: dict[str, Any], priority: dict, percent: int, message: str) -> None:
    crew, calendar = records["crew"], records["calendar"]
    before = (Agreement.objects.count(), PriorityTarget.objects.count(), Threshold.objects.count())
    response = supervisor_client.post(url("agreement", "add"), agreement_post(
        crew.department, calendar, priority=priority, percent=percent))
    assert message in errors(response)
    assert (Agreement.objects.count(), PriorityTarget.objects.count(), Threshold.objects.count()) == before


def test_an_agreement_clocks_counted_against_is_not_deleted(supervisor_client: Client,
                                                            records: dict[str, Any]) -> None:
    terms = records["agreement"]
    assert supervisor_client.get(url("agreement", "delete", terms.pk)).status_code == 403


# --- breaches --------------------------------------------------------------------------------------------

def test_the_supervisor_explains_a_breach(supervisor_client: Client, supervisor: Any,
                                          records: dict[str, Any]) -> None:
    breach = records["breach"]
    response = supervisor_client.post(url("breach", "change", breach.pk), {
        "explanation": "值班人員交接遺漏", "corrective_action": "交接清單加入未回應事件", "action_owner": supervisor.pk,
        "action_due": "2026-12-15"})
    assert response.status_code == 302
    breach.refresh_from_db()
    assert breach.is_explained and breach.explained_by == supervisor and breach.explained_at is not None


def test_an_owner_outside_the_it_staff_is_refused_and_nothing_is_saved(supervisor_client: Client,
                                                                        records: dict[str, Any]) -> None:
    breach, caller = records["breach"], records["crew"].caller
    response = supervisor_client.post(url("breach", "change", breach.pk), {
        "explanation": "交接遺漏", "corrective_action": "加入清單", "action_owner": caller.pk,
        "action_due": "2026-12-15"}, follow=True)
    assert any("IT staff" in str(m) for m in response.context["messages"])
    breach.refresh_from_db()
    assert breach.explanation == "" and breach.explained_by is None


def test_a_half_explanation_is_refused_and_nothing_is_saved(supervisor_client: Client,
                                                            records: dict[str, Any]) -> None:
    breach = records["breach"]
    response = supervisor_client.post(url("breach", "change", breach.pk), {"explanation": "交接遺漏"})
    assert "corrective action" in errors(response)
    breach.refresh_from_db()
    assert breach.explanation == "" and breach.explained_by is None


def test_a_breach_of_a_published_month_keeps_its_explanation(supervisor_client: Client,
                                                             records: dict[str, Any]) -> None:
    breach = records["breach"]
    Evaluation.objects.create(department=breach.department, month=date(2026, 11, 1), state="published")
    link = url("breach", "change", breach.pk)
    assert 'name="_save"' not in supervisor_client.get(link).content.decode()
    assert supervisor_client.post(link, {"explanation": "late"}).status_code == 403


def test_breaches_not_yet_explained_are_listed_apart(supervisor_client: Client, records: dict[str, Any]) -> None:
    response = supervisor_client.get(url("breach"), {"explained": "no"})
    assert response.context["cl"].result_count == 1
    assert supervisor_client.get(url("breach"), {"explained": "yes"}).context["cl"].result_count == 0


# --- outages and the survey policy ----------------------------------------------------------------------

def test_an_outage_is_recorded_by_the_signed_in_supervisor(supervisor_client: Client, supervisor: Any,
                                                           records: dict[str, Any]) -> None:
    service = records["outage"].service
    response = supervisor_client.post(url("outage", "add"), {
        "incident": records["incident"].pk, "service": service.pk, "kind": "partial",
        "started_at_0": "2026-11-03", "started_at_1": "10:00", "ended_at_0": "2026-11-03", "ended_at_1": "09:00"})
    assert "must end after it starts" in errors(response)
    response = supervisor_client.post(url("outage", "add"), {
        "incident": records["incident"].pk, "service": service.pk, "kind": "partial",
        "started_at_0": "2026-11-03", "started_at_1": "10:00", "ended_at_0": "2026-11-03", "ended_at_1": "10:20"})
    assert response.status_code == 302
    assert Outage.objects.get(kind="partial").recorded_by == supervisor


def test_the_survey_policy_is_one_row_never_added_twice_nor_deleted(supervisor_client: Client) -> None:
    policy = SurveyPolicy.current()
    assert supervisor_client.get(url("surveypolicy", "add")).status_code == 403
    assert supervisor_client.get(url("surveypolicy", "delete", policy.pk)).status_code == 403
    response = supervisor_client.post(url("surveypolicy", "change", policy.pk), {
        "delay_minutes": 30, "sampling_percent": 150, "quiet_days": 7, "valid_days": 14, "low_score": 2})
    assert "less than or equal to 100" in errors(response)
    policy.refresh_from_db()
    assert policy.sampling_percent == 100


# --- query counts ----------------------------------------------------------------------------------------

# the user (the session comes from the cache), their own and their groups' permissions, counts, the page, and the
# choices of the list filters (departments, teams, services): none per row.
LIST_QUERIES = {"businesscalendar": 7, "agreement": 9, "teamtarget": 7, "clock": 9, "breach": 8, "outage": 9,
                "evaluation": 9, "surveypolicy": 6}


def more_rows(supervisor: Any) -> None:
    """Another department's agreement, incident, clocks, breach, outage and evaluation."""
    crew = make_crew(supervisor=supervisor)
    terms = agreement(crew.department, office_calendar("Second office"), targets={"P3": (60, 600)})
    TeamTarget.objects.create(team=crew.team, priority="P2", resolution_minutes=240, calendar=terms.calendar)
    incident = reported(crew)
    clock = Clock.objects.get(incident=incident, kind="resolution")
    Breach.objects.create(clock=clock, incident=incident, department=crew.department, kind="resolution",
                          breached_at=at("2026-11-03 10:00"))
    Outage.objects.create(incident=incident, service=_service(), started_at=at("2026-11-03 09:00"),
                          recorded_by=supervisor)
    Evaluation.objects.create(department=crew.department, month=date(2026, 10, 1))


@pytest.mark.parametrize("model", PAGES)
def test_list_queries_do_not_grow_with_rows(supervisor_client: Client, supervisor: Any, records: dict[str, Any],
                                           django_assert_num_queries: Any, model: str) -> None:
    supervisor_client.get(url(model))  # warm caches (content types, the session)
    with django_assert_num_queries(LIST_QUERIES[model]):
        supervisor_client.get(url(model))
    more_rows(supervisor)
    with django_assert_num_queries(LIST_QUERIES[model]):
        supervisor_client.get(url(model))


# --- the 7×24 fallback --------------------------------------------------------------------------------

def _report(api_client: Any, crew: Any) -> Any:
    from django.utils import timezone

    return api_client.post("/api/v1/incidents/", {
        "title": "Printer jam", "description": "d", "occurred_at": (timezone.now() - timedelta(minutes=5)).isoformat(),
        "impact_scope": "s", "channel": "phone", "caller": crew.caller.pk}, format="json")


@pytest.mark.parametrize("edit", ["untick", "delete"])
def test_reports_still_work_after_the_supervisor_unticks_or_deletes_the_7x24_calendar(
        supervisor: Any, supervisor_client: Client, api_as: Any, edit: str) -> None:
    """No agreement applies: the clocks count round the clock even without a stored 7×24 calendar, and the
    report writes no calendar of its own."""
    crew = make_crew(supervisor=supervisor)
    calendar = BusinessCalendar.objects.get(is_24x7=True)
    if edit == "untick":
        post = calendar_post([(0, "08:00", "17:00")], name=calendar.name)
        response = supervisor_client.post(url("businesscalendar", "change", calendar.pk), post)
    else:
        response = supervisor_client.post(url("businesscalendar", "delete", calendar.pk), {"post": "yes"})
    assert response.status_code == 302, errors(response)
    assert not BusinessCalendar.objects.filter(is_24x7=True).exists()
    calendars = BusinessCalendar.objects.count()
    for _turn in range(2):
        response = _report(api_as(crew.duty), crew)
        assert response.status_code == 201, response.content
    assert BusinessCalendar.objects.count() == calendars
    clock = Clock.objects.filter(incident_id=response.json()["id"], kind="response").get()
    assert (clock.calendar, clock.state, clock.target_seconds) == (None, "running", None)
    detail = api_as(crew.duty).get(f"/api/v1/incidents/{response.json()['id']}/")
    assert detail.status_code == 200
