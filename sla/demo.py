"""Demo service levels: agreements with every demo department (office hours with China's public holidays and
make-up workdays, 7×24 for P1), availability targets on the main services, team targets (OLA), and twelve
months of figures — the demo incidents' clocks rebuilt under the agreements, older closed incidents walked
through the services on a stepped clock, outages, breaches explained (a couple not yet), and the past months'
evaluations published; and satisfaction — surveys of resolved incidents answered by the departments' contacts over
the twelve months (a few low scores followed up, the latest still open) and a closed questionnaire campaign."""

import datetime as dt
import importlib.util
import random
import time
from decimal import Decimal
from typing import Any, TextIO
from unittest import mock

import holidays
from django.contrib.auth.models import Group
from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from incidents.choices import FINISHED_STATES, State
from incidents.demo import Director
from incidents.models import Incident
from opscenter.core import roles
from opscenter.core.demo import last_notification_id, settle_notifications, stepped_clock
from opscenter.core.models import Department, FieldChange, Service, Team, TransitionLog, User
from sla import clocks, metrics, receivers
from sla.choices import ExceptionKind, FollowUpState, OutageKind, QuestionKind, SurveyState
from sla.models import (
    Agreement,
    Breach,
    BusinessCalendar,
    CalendarException,
    Campaign,
    Clock,
    FollowUp,
    Outage,
    PriorityTarget,
    ServiceTarget,
    Survey,
    TeamTarget,
    Threshold,
)
from sla.notifications import BREACH, WARNING
from sla.surveys import services as survey_services

OFFICE = "Office hours Mon–Fri 08:00–17:00"  # written by the data migration, with CN public holidays
MONTHS = 12
# Response and resolution in business minutes; P1 counts round the clock.
PRIORITY_TARGETS = {"P1": (15, 240, True), "P2": (30, 480, False), "P3": (60, 960, False), "P4": (240, 2400, False)}
TEAM_TARGETS = {"P1": (180, True), "P2": (420, False), "P3": (900, False), "P4": (2280, False)}
THRESHOLDS = (50, 75, 90, 100)
# department → (service, availability %, counted round the clock)
SERVICE_TARGETS = {
    "finance": [("erp", "99.9", True), ("finance-ledger", "99.5", False)],
    "hr": [("hr-payroll", "99.5", False), ("email", "99.9", True)],
    "sales": [("crm", "99.5", False), ("vpn", "99.0", True)],
    "admin": [("email", "99.9", True), ("oa", "99.5", False), ("office-network", "99.9", True),
              ("file-share", "99.0", False)],
    "service-desk": [("website", "99.9", True), ("erp", "99.5", True)],
}
HISTORY_PER_MONTH = 12  # older incidents a month, before the incident demo's 90 days
HISTORY_DAYS = (MONTHS * 30.5 + 20, 88)
LEFT_UNEXPLAINED = 2
EXPLANATIONS = {
    "response": ("夜間值班人員同時處理多起告警，首次回應延遲", "值班高峰時段增派一名工程師並調整告警分級"),
    "resolution": ("故障需原廠備件，處理時間超出承諾", "關鍵設備備件常備並與原廠簽訂四小時到場服務"),
    "ola": ("工單在組內等待排程，未及時處理", "組長每日兩次檢視待處理工單"),
    "availability": ("機房供電切換期間服務中斷，當月可用率低於承諾", "供電切換納入變更管理並於非服務時段進行"),
}


def seed(*, stdout: TextIO) -> None:
    """Load the demo service levels, then the demo satisfaction, each once.

    Notifications written while seeding are marked delivered, as in the incident demo."""
    if not User.objects.filter(username="supervisor").exists():
        stdout.write("Demo service levels: skipped (no demo organisation).")
        return
    seed_service_levels(stdout=stdout)
    seed_satisfaction(stdout=stdout)


def seed_service_levels(*, stdout: TextIO) -> None:
    """Agreements, twelve months of clocks, outages, explained breaches and published evaluations: skipped when
    agreements or breaches already exist."""
    if Agreement.objects.exists() or Breach.objects.exists():
        stdout.write("Demo service levels: skipped (agreements already exist).")
        return
    began = time.monotonic()
    last_notification = last_notification_id()
    now = timezone.now()
    with stepped_clock() as clock, mock.patch("opscenter.core.outbox.enqueue_delivery"), transaction.atomic():
        agreements = terms(now)
        rebuilt = rebuild_clocks(Incident.objects.filter(Q(department__isnull=False) | Q(service__isnull=False))
                                 .order_by("created_at", "pk"))
        director = Director(random.Random(20250101), clock, now)
        older = history(director)
        outages = record_outages(clock, [*older, *Incident.objects.filter(created_at__gte=now - dt.timedelta(
            days=HISTORY_DAYS[1] + 2)).order_by("created_at")])
        clock.set(now)
        clocks.sweep(now=now)  # what beat would have announced by now
        record_availability_misses()
        unexplained = explain_breaches(clock, now)
        published = publish_evaluations(clock, now)
    # The sweep at the end announces months of breaches at once: those of incidents finished by now are read.
    settle_notifications(last_notification, now, events=(BREACH.event, WARNING.event),
                         finished=Incident.objects.filter(state__in=FINISHED_STATES).values("number"))
    stdout.write(f"Demo service levels: {len(agreements)} agreements, {rebuilt} incidents' clocks rebuilt, "
                 f"{len(older)} older incidents over {MONTHS} months, {outages} outages, "
                 f"{Breach.objects.count()} breaches ({unexplained} unexplained), {published} evaluations "
                 f"published in {time.monotonic() - began:.1f} s.")


# --- Calendars, agreements and targets ------------------------------------------------------------------

def calendars(now: dt.datetime) -> tuple[BusinessCalendar, BusinessCalendar]:
    """The office-hours calendar with the make-up workdays (調休) of the last and the coming year, and 7×24."""
    office = BusinessCalendar.objects.filter(name=OFFICE).first()
    if office is None:
        office = BusinessCalendar.objects.create(name=OFFICE, holiday_country="CN")
        for weekday in range(5):
            office.intervals.create(weekday=weekday, start=dt.time(8), end=dt.time(17))
    year = timezone.localdate(now).year
    for day in sorted(holidays.CN(years=[year - 1, year, year + 1]).weekend_workdays):
        if day.year >= year - 1:
            CalendarException.objects.get_or_create(calendar=office, date=day, defaults={
                "kind": ExceptionKind.WORKDAY, "note": "調休補班"})
    return office, clocks.default_calendar() or BusinessCalendar.objects.update_or_create(
        name=clocks.ROUND_THE_CLOCK, defaults={"is_24x7": True})[0]


def terms(now: dt.datetime) -> list[Agreement]:
    """An agreement with every demo department valid for the last thirteen months on, and team targets."""
    office, round_the_clock = calendars(now)
    valid_from = metrics.add_months(metrics.month_start(timezone.localdate(now)), -MONTHS)
    services = {s.code: s for s in Service.objects.all()}
    agreements = []
    for department in Department.objects.order_by("code"):
        agreement = Agreement.objects.create(department=department, name=f"{department.name} 服務級別協議",
                                             valid_from=valid_from, calendar=office)
        for priority, (response, resolution, always) in PRIORITY_TARGETS.items():
            PriorityTarget.objects.create(agreement=agreement, priority=priority, response_minutes=response,
                                          resolution_minutes=resolution, calendar=round_the_clock if always else None)
        for percent in THRESHOLDS:
            Threshold.objects.create(agreement=agreement, percent=percent, notify_team=percent >= 75,
                                     notify_supervisors=percent >= 90, notify_department=percent == 100)
        for code, availability, always in SERVICE_TARGETS.get(department.code, []):
            if code in services:
                ServiceTarget.objects.create(agreement=agreement, service=services[code],
                                             availability=Decimal(availability),
                                             calendar=round_the_clock if always else office)
        agreements.append(agreement)
    for team in Team.objects.all():
        for priority, (minutes, always) in TEAM_TARGETS.items():
            TeamTarget.objects.get_or_create(team=team, priority=priority, defaults={
                "resolution_minutes": minutes, "calendar": round_the_clock if always else office})
    return agreements


def rebuild_clocks(incidents: Any) -> int:
    """Incidents reported before the agreements existed get their clocks again, replayed from their transition logs
    as the receivers would have moved them (the incident's present team and priority, but a reclassified one's
    priority of the time until each reclassification: a response met as a P3 stays met once it is raised to P1):
    those of a department, and those of a service, whose owner department's agreement applies. An incident with
    neither keeps its clocks without a target, and its page says that no agreement applies."""
    count = 0
    for incident in incidents.select_related("department"):
        Clock.objects.filter(incident=incident).delete()
        ticket = {"content_type__app_label": "incidents", "content_type__model": "incident", "object_id": incident.pk}
        raises = list(FieldChange.objects.filter(**ticket, field="priority").order_by("created_at", "pk")
                      .values_list("old_value", "new_value"))
        present = incident.priority
        if raises:
            incident.priority = raises[0][0]
        clocks.start_clocks(incident, actor=incident.created_by)
        logs = TransitionLog.objects.filter(**ticket).select_related("actor").order_by("created_at", "pk")
        for log in logs:
            if log.transition == "reclassify" and raises:
                incident.priority = raises.pop(0)[1]
            receivers.on_incident_transition(sender=Incident, instance=incident, transition=log.transition,
                                             source=log.source_state, target=log.target_state, actor=log.actor,
                                             log=log)
        incident.priority = present
        count += 1
    return count


# --- Twelve months of history -----------------------------------------------------------------------------

def history(director: Director) -> list[Incident]:
    """Closed incidents from a year ago up to the incident demo's 90 days, played through the services: each
    reported at a random moment of its own equal slice of that span, so that every month holds its share
    whatever the day the demo is loaded."""
    oldest, newest = HISTORY_DAYS
    count = int(HISTORY_PER_MONTH * (oldest - newest) / 30.5)
    width = (oldest - newest) / count
    return [director.play(director.story(State.CLOSED, (oldest - index * width, oldest - (index + 1) * width), index))
            for index in range(count)]


def record_outages(clock: Any, incidents: list[Incident]) -> int:
    """Urgent incidents on a service with an availability target took it down (P1) or degraded it (P2, one
    in three) from their report to their recovery."""
    targeted = set(ServiceTarget.objects.values_list("service_id", flat=True))
    supervisor = User.objects.get(username="supervisor")
    rng = random.Random(7)
    count = 0
    for incident in incidents:
        if incident.service_id not in targeted or incident.resolved_at is None:
            continue
        if incident.priority == "P1" or (incident.priority == "P2" and rng.random() < 0.35):
            clock.set(incident.resolved_at + dt.timedelta(minutes=15))
            Outage.objects.create(incident=incident, service_id=incident.service_id, started_at=incident.created_at,
                                  ended_at=incident.resolved_at, recorded_by=supervisor,
                                  kind=OutageKind.FULL if incident.priority == "P1" else OutageKind.PARTIAL)
            count += 1
    return count


# --- Explanations and evaluations -------------------------------------------------------------------------

def _evaluations() -> Any:
    """The evaluation services, when the installed version has them."""
    if importlib.util.find_spec("sla.evaluations") is None:
        return None
    return importlib.import_module("sla.evaluations")


def record_availability_misses() -> int:
    """The services below their availability target in each past month, recorded as the daily task would have."""
    services = _evaluations()
    if services is None or not hasattr(services, "availability_breaches_record"):
        return 0
    return sum(services.availability_breaches_record(department_id=None, month=month)
               for month in metrics.trend_months(metrics.add_months(metrics.current_month(), -1), MONTHS))


def explain_breaches(clock: Any, now: dt.datetime) -> int:
    """Every breach explained a day after it, with its corrective action, owner and due date — except the
    latest two of the last month, which keep that month's evaluation from being published. Returns how many
    are left unexplained."""
    last_month = metrics.add_months(metrics.current_month(), -1)
    start, end = metrics.month_bounds(last_month)
    breaches = list(Breach.objects.select_related("incident__assignee").order_by("breached_at", "pk"))
    left = {b.pk for b in [b for b in breaches if start <= b.breached_at < end][-LEFT_UNEXPLAINED:]}
    services = _evaluations()
    supervisor = User.objects.get(username="supervisor")
    for breach in breaches:
        if breach.pk in left:
            continue
        moment = min(breach.breached_at + dt.timedelta(days=1), now)
        clock.set(moment)
        explanation, action = EXPLANATIONS.get(breach.kind, EXPLANATIONS["resolution"])
        owner = (breach.incident.assignee if breach.incident_id else None) or supervisor
        due = timezone.localdate(moment) + dt.timedelta(days=14)
        if services is not None:
            services.breach_explain(breach=breach, user=supervisor, explanation=explanation,
                                    corrective_action=action, action_owner=owner, action_due=due)
        else:
            Breach.objects.filter(pk=breach.pk).update(
                explanation=explanation, corrective_action=action, action_owner=owner, action_due=due,
                explained_by=supervisor, explained_at=moment)
    clock.set(now)
    return len(left)


def publish_evaluations(clock: Any, now: dt.datetime) -> int:
    """The twelve past months of every department: published on the fifth of the next month when every
    breach is explained, otherwise left as a draft. Returns how many were published."""
    services = _evaluations()
    if services is None:
        return 0
    supervisor = User.objects.get(username="supervisor")
    published = 0
    for month in metrics.trend_months(metrics.add_months(metrics.current_month(), -1), MONTHS):
        clock.set(min(metrics.month_bounds(month)[1] + dt.timedelta(days=4, hours=10), now))
        for department in Department.objects.filter(agreements__isnull=False).distinct().order_by("code"):
            evaluation = services.evaluation_prepare(department=department, month=month, user=supervisor)
            if services.unexplained(services.month_breaches(department.pk, month)):
                continue
            services.evaluation_publish(evaluation=evaluation, user=supervisor,
                                        summary=f"{month:%Y-%m} 服務級別評估：各項指標詳見報表。")
            published += 1
    clock.set(now)
    return published



# --- Satisfaction -------------------------------------------------------------------------------------------

# The departments' contacts who report faults and answer surveys and questionnaires (finance has its demo user).
CONTACTS = {"hr": ("hr-contact", "劉人資"), "sales": ("sales-contact", "楊業務"), "admin": ("admin-contact", "趙行政"),
            "service-desk": ("cs-contact", "郭客服")}
REPORTED_BY_CONTACT = 0.8  # of the resolved incidents phoned in for a department, its contact was the caller
ANSWERED = 0.75  # of the surveys sent, answered before the link expired
SCORE_WEIGHTS = {5: 46, 4: 36, 3: 18}  # the ordinary answers; the low ones are chosen below
LOW_SCORES = (2, 1, 2)  # spread over the year, the latest still to be followed up
COMMENTS = {
    5: ["工程師很快就到場，問題當天解決，非常感謝！", "處理迅速，說明清楚。", "電話一打就有人回應，很專業。"],
    4: ["問題解決了，但等了一段時間才有人聯繫。", "整體滿意，希望處理進度能主動通知。", ""],
    3: ["問題最後解決了，但中間反覆確認了好幾次。", "處理時間比預期長，希望改進。", "還可以。"],
    2: ["等了一整天都沒有人回覆，影響月結工作。", "問題說已解決，但隔天又出現，沒有人跟進。"],
    1: ["系統停了半天，沒有任何通知，業務完全停擺。"],
}
FOLLOW_UP_NOTES = ["已致電用戶說明原因並致歉；值班高峰時段增派人手。", "已與用戶確認問題未再發生，並補充知識庫文章。"]
QUESTIONS = [
    ("整體而言，您對 IT 服務中心本季的服務是否滿意？", QuestionKind.SCORE, None, None),
    ("桌面運維組到場處理的速度與態度", QuestionKind.SCORE, "desktop", None),
    ("郵件系統的穩定性", QuestionKind.SCORE, None, "email"),
    ("ERP 系統故障時的處理與溝通", QuestionKind.SCORE, None, "erp"),
    ("您最希望 IT 服務中心改進的是什麼？", QuestionKind.TEXT, None, None),
]
SUGGESTIONS = ["希望故障處理進度能以短信主動通知。", "月結期間請加強 ERP 的值守。", "新人電腦的安裝可以更快一些。",
               "VPN 在家使用時偶爾斷線，希望改善。"]


def seed_satisfaction(*, stdout: TextIO) -> None:
    """Surveys of the last twelve months sent and answered at their times, low scores followed up, and one
    questionnaire campaign answered by the departments and closed: skipped once answers or campaigns exist."""
    if Survey.objects.filter(state=SurveyState.ANSWERED).exists() or Campaign.objects.exists():
        stdout.write("Demo satisfaction: skipped (answers already exist).")
        return
    last_notification = last_notification_id()
    now = timezone.now()
    rng = random.Random(20250505)
    with stepped_clock() as clock, mock.patch("opscenter.core.outbox.enqueue_delivery"), transaction.atomic():
        contacts = demo_contacts()
        scheduled = schedule_surveys(contacts, rng, now)
        answered = send_and_answer(clock, rng, now)
        closed = follow_up(clock, now)
        invited, replied = questionnaire(clock, rng, now)
        clock.set(now)
    settle_notifications(last_notification, now)
    stdout.write(f"Demo satisfaction: {scheduled} surveys, {answered} answered, {FollowUp.objects.count()} "
                 f"low scores followed up ({closed} closed), a questionnaire answered by {replied} of {invited}.")


def demo_contacts() -> dict[int, User]:
    """Each demo department's contact: a department user of its own (created once, without a password: they
    answer through their links)."""
    group = Group.objects.get(name=roles.DEPARTMENT_USER)
    contacts = {}
    for department in Department.objects.order_by("code"):
        person = User.objects.filter(department=department, groups=group, is_active=True).order_by("pk").first()
        if person is None and department.code in CONTACTS:
            username, name = CONTACTS[department.code]
            person = User.objects.create(username=username, display_name=name, department=department,
                                         email=f"{username}@example.com")
            person.set_unusable_password()
            person.save(update_fields=["password"])
            person.groups.add(group)
        if person is not None:
            contacts[department.pk] = person
    return contacts


def schedule_surveys(contacts: dict[int, User], rng: random.Random, now: dt.datetime) -> int:
    """The surveys the policy schedules at each resolution of the last twelve months: most faults a department
    phoned in were its contact's, and the reporter is asked (delay, sampling, quiet period applied)."""
    since = metrics.month_bounds(metrics.add_months(metrics.current_month(), -MONTHS + 1))[0]
    resolved = (Incident.objects.filter(department__isnull=False, resolved_at__gte=since, resolved_at__lt=now,
                                        state__in=survey_services.SETTLED_STATES, survey__isnull=True)
                .select_related("created_by").order_by("resolved_at", "pk"))
    for incident in resolved:
        contact = contacts.get(incident.department_id)
        if incident.caller_id is None and contact is not None and rng.random() < REPORTED_BY_CONTACT:
            Incident.objects.filter(pk=incident.pk).update(caller=contact)
            incident.caller = contact
        survey_services.survey_schedule(incident, at=incident.resolved_at)
    return Survey.objects.count()


def send_and_answer(clock: Any, rng: random.Random, now: dt.datetime) -> int:
    """The sweep sends each survey at its time; three in four are answered within three days, most of them
    satisfied, a few with a low score and its comment. What is left past its validity expires."""
    pending = list(Survey.objects.filter(state=SurveyState.PENDING, send_after__lte=now,
                                         incident__state__in=survey_services.SETTLED_STATES)
                   .order_by("send_after", "pk"))
    events: list[tuple[dt.datetime, int, Survey]] = []
    answering: set[int | None] = set()  # every department answers at least its first survey
    for survey in pending:
        events.append((survey.send_after, 0, survey))
        answer_at = survey.send_after + dt.timedelta(hours=rng.uniform(0.5, 72))
        chosen = rng.random() < ANSWERED or survey.department_id not in answering
        if chosen and answer_at < now:
            events.append((answer_at, 1, survey))
            answering.add(survey.department_id)
    answers = [e for e in events if e[1]]
    low = {answers[int(len(answers) * share)][2].pk: score
           for share, score in zip((0.3, 0.65, 0.999), LOW_SCORES, strict=True)} if len(answers) > 3 else {}
    for moment, is_answer, survey in sorted(events, key=lambda e: (e[0], e[1], e[2].pk)):
        clock.set(moment)
        if not is_answer:
            survey_services.send_due_surveys(now=moment)
            continue
        score = low.get(survey.pk) or rng.choices(list(SCORE_WEIGHTS), weights=list(SCORE_WEIGHTS.values()))[0]
        comment = rng.choice(COMMENTS[score]) if score <= 3 or rng.random() < 0.4 else ""
        token = survey_services.sign(survey.pk, salt=survey_services.SURVEY_SALT)
        survey_services.survey_answer(token=token, score=score, comment=comment, now=moment)
    clock.set(now)
    survey_services.send_due_surveys(now=now)
    return len(answers)


def follow_up(clock: Any, now: dt.datetime) -> int:
    """The supervisor called back every low score the next day, except the latest, still open."""
    supervisor = User.objects.get(username="supervisor")
    follow_ups = list(FollowUp.objects.filter(state=FollowUpState.OPEN).order_by("created_at", "pk"))
    for index, item in enumerate(follow_ups[:-1]):
        clock.set(min(item.created_at + dt.timedelta(days=1), now))
        survey_services.follow_up_close(item, user=supervisor, note=FOLLOW_UP_NOTES[index % len(FOLLOW_UP_NOTES)])
    return max(len(follow_ups) - 1, 0)


def questionnaire(clock: Any, rng: random.Random, now: dt.datetime) -> tuple[int, int]:
    """A quarterly questionnaire opened two months ago to every department's contacts, answered by most of them
    within its two weeks, and closed. Returns how many were invited and how many answered."""
    supervisor = User.objects.get(username="supervisor")
    opened = now - dt.timedelta(days=60)
    clock.set(opened)
    teams = {t.code: t for t in Team.objects.all()}
    services = {s.code: s for s in Service.objects.all()}
    day = timezone.localdate(opened)
    campaign = survey_services.campaign_create(
        user=supervisor, name=f"{day:%Y} 年第 {(day.month - 1) // 3 + 1} 季 IT 服務滿意度問卷",
        description="為持續改進 IT 服務質量，請各部門聯絡人撥冗填寫本問卷，約需三分鐘。",
        closes_at=opened + dt.timedelta(days=14), departments=Department.objects.all(),
        questions=[{"text": text, "kind": kind, "team": teams.get(team or ""), "service": services.get(service or ""),
                    "required": kind == QuestionKind.SCORE} for text, kind, team, service in QUESTIONS])
    survey_services.campaign_open(campaign, user=supervisor, now=opened)
    invitations = list(campaign.invitations.order_by("pk"))
    questions = list(campaign.questions.order_by("ordering"))
    replied = 0
    for index, invitation in enumerate(invitations):
        if index == len(invitations) - 1 and len(invitations) > 2:  # one contact never answers
            continue
        moment = opened + dt.timedelta(days=rng.uniform(0.2, 12))
        clock.set(moment)
        answers = {q.pk: rng.choices([5, 4, 3, 2], weights=[40, 40, 15, 5])[0] if q.kind == QuestionKind.SCORE
                   else rng.choice(SUGGESTIONS) for q in questions}
        token = survey_services.sign(invitation.pk, salt=survey_services.CAMPAIGN_SALT)
        survey_services.campaign_answer(token=token, answers=answers, now=moment)
        replied += 1
    clock.set(campaign.closes_at)
    survey_services.campaign_close(campaign, user=supervisor)
    return len(invitations), replied
