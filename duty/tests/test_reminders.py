"""Reminders before shifts: once per shift and lead, however often or late the sweep runs; never for a shift that
has started or a draft roster; in the person's language."""

from datetime import date, datetime, timedelta
from typing import Any

import pytest
from django.conf import settings
from django.utils import timezone

from duty.models import ShiftReminder
from duty.reminders import send_shift_reminders
from duty.tasks import send_shift_reminders as send_shift_reminders_task
from duty.tests.factories import DutyCrew, RosterFactory, duty_crew, policy
from opscenter.core import outbox
from opscenter.core.choices import Channel
from opscenter.core.models import Notification

pytestmark = pytest.mark.django_db
EVENT = "duty.shift_reminder"


@pytest.fixture
def crew() -> DutyCrew:
    return duty_crew()


def _start() -> datetime:
    return (timezone.now() + timedelta(days=2)).replace(minute=0, second=0, microsecond=0)


def reminders(**filters: Any) -> list[Notification]:
    return list(Notification.objects.filter(event=EVENT, channel=Channel.IN_APP, **filters).order_by("pk"))


def published_shift(crew: DutyCrew, start: datetime, user: Any = None) -> Any:
    """A shift of the crew's published roster of the coming month (made on first use)."""
    roster = crew.team.rosters.first() or crew.published_roster(date.today(), date.today() + timedelta(days=30))
    return crew.shift(roster, user or crew.engineers[0], start)


def test_each_lead_reminds_once_however_often_the_sweep_runs(crew: DutyCrew) -> None:
    start = _start()
    shift = published_shift(crew, start)
    assert send_shift_reminders(now=start - timedelta(hours=13)) == 0  # nothing due yet
    twelve_hours = start - timedelta(hours=12)
    assert send_shift_reminders(now=twelve_hours) == 1
    assert send_shift_reminders(now=twelve_hours) == 0
    assert send_shift_reminders(now=twelve_hours + timedelta(minutes=1)) == 0
    assert send_shift_reminders(now=start - timedelta(minutes=30)) == 1
    assert send_shift_reminders(now=start - timedelta(minutes=29)) == 0
    sent = reminders()
    assert [n.payload["lead_minutes"] for n in sent] == [720, 30]
    assert {n.recipient_id for n in sent} == {shift.user_id}
    assert Notification.objects.filter(event=EVENT, channel=Channel.EMAIL).count() == 2
    assert set(ShiftReminder.objects.values_list("shift_id", "lead_minutes")) == {(shift.pk, 720), (shift.pk, 30)}


def test_a_late_sweep_sends_one_reminder_for_every_lead_it_missed(crew: DutyCrew) -> None:
    """Beat was down from 13 hours before the shift until 20 minutes before it: one reminder, not two."""
    start = _start()
    shift = published_shift(crew, start)
    late = start - timedelta(minutes=20)
    assert send_shift_reminders(now=late) == 1
    for minute in range(3):  # the minutes missed catch up
        assert send_shift_reminders(now=late + timedelta(minutes=minute)) == 0
    [sent] = reminders()
    assert sent.payload["lead_minutes"] == 30
    assert set(ShiftReminder.objects.filter(shift=shift).values_list("lead_minutes", flat=True)) == {720, 30}


def test_a_late_sweep_still_reminds_before_the_shift_but_never_after_it_started(crew: DutyCrew) -> None:
    """Beat was down from 13 hours before a shift until a minute after it started: that shift gets no reminder;
    the next one, due its 12-hour reminder 5 hours ago, gets it now."""
    start = _start()
    started = published_shift(crew, start)
    following = published_shift(crew, start + timedelta(hours=7), user=crew.engineers[1])
    assert send_shift_reminders(now=start + timedelta(minutes=1)) == 1
    assert [n.payload["shift"] for n in reminders()] == [following.pk]
    assert not ShiftReminder.objects.filter(shift=started).exists()
    assert send_shift_reminders(now=following.start - timedelta(minutes=30)) == 1
    assert send_shift_reminders(now=following.start + timedelta(minutes=1)) == 0
    assert len(reminders()) == 2


def test_shifts_of_draft_rosters_are_not_reminded(crew: DutyCrew) -> None:
    start = _start()
    draft = RosterFactory(team=crew.team, first_day=date.today(), last_day=date.today() + timedelta(days=30),
                          created_by=crew.supervisor)
    crew.shift(draft, crew.engineers[0], start)
    assert send_shift_reminders(now=start - timedelta(minutes=30)) == 0
    assert not reminders() and not ShiftReminder.objects.exists()


def test_a_lead_added_later_does_not_remind_again_what_a_nearer_lead_reminded(crew: DutyCrew) -> None:
    start = _start()
    published_shift(crew, start)
    assert send_shift_reminders(now=start - timedelta(hours=12)) == 1
    policy(reminder_leads_minutes=[1440, 720, 30])
    assert send_shift_reminders(now=start - timedelta(hours=11)) == 0
    policy(reminder_leads_minutes=[])
    assert send_shift_reminders(now=start - timedelta(minutes=10)) == 0
    assert len(reminders()) == 1


def test_a_sweep_larger_than_a_batch_reminds_everyone_once(crew: DutyCrew, monkeypatch: Any) -> None:
    monkeypatch.setattr("duty.reminders.SWEEP_BATCH", 2)
    start = _start()
    for n, engineer in enumerate(crew.engineers):
        published_shift(crew, start + timedelta(minutes=n), user=engineer)
    published_shift(crew, start, user=crew.duty).__class__.objects.filter(user=crew.duty).update(role="duty_officer")
    assert send_shift_reminders(now=start - timedelta(hours=1)) == 4
    assert send_shift_reminders(now=start - timedelta(hours=1)) == 0
    assert len(reminders()) == 4 and len({n.recipient_id for n in reminders()}) == 4


def test_the_reminder_reads_in_the_persons_language(crew: DutyCrew) -> None:
    start = _start()
    english, chinese = crew.engineers[0], crew.engineers[1]
    type(english).objects.filter(pk=english.pk).update(language="en")
    type(chinese).objects.filter(pk=chinese.pk).update(language="zh-hant")
    for person in (english, chinese):
        type(published_shift(crew, start, user=person)).objects.filter(user=person).update(shift_type=crew.day)
    assert send_shift_reminders(now=start - timedelta(minutes=30)) == 2
    local = timezone.localtime(start).strftime("%Y-%m-%d %H:%M")
    mail = {n.recipient_id: outbox.email_message(n) for n in Notification.objects.filter(
        event=EVENT, channel=Channel.EMAIL).select_related("recipient")}
    subject, body = mail[english.pk]
    assert subject == f"[OpsCenter] Your duty shift starts {local}: {crew.team}, System engineer"
    assert "Day from" in body and "/duty/calendar/" in body
    subject, _body = mail[chinese.pk]
    assert "系統運維工程師" in subject and local in subject


def test_the_task_sweeps_every_minute(crew: DutyCrew) -> None:
    published_shift(crew, timezone.now() + timedelta(minutes=20))
    assert send_shift_reminders_task() == 1
    assert send_shift_reminders_task() == 0
    entry = settings.CELERY_BEAT_SCHEDULE["send-shift-reminders"]
    assert entry["task"] == send_shift_reminders_task.name == "duty.tasks.send_shift_reminders"
    assert entry["schedule"].minute == set(range(60))
