"""Against real services: concurrent transitions on PostgreSQL, and a real Celery worker on Redis
delivering the outbox. They skip on a machine without the services and fail when CI is set."""

import http.server
import json
import threading
from pathlib import Path

import pytest
from django.contrib.contenttypes.models import ContentType
from django.db import connection, connections, transaction

from opscenter.core import outbox, roles
from opscenter.core.choices import Channel, DeliveryStatus
from opscenter.core.exceptions import ConcurrentChange, InvalidState
from opscenter.core.models import Notification, TicketSequence, TransitionLog, WebhookEndpoint
from opscenter.core.services import perform_transition
from opscenter.core.tests.real_services import (
    celery_worker,
    drain,
    require_postgres,
    require_postgres_and_redis,
    wait_for,
)
from opscenter.core.tests.workflow_app.models import WorkOrder


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_concurrent_transitions_exactly_one_wins_and_logs_once(policy_defaults, make_user) -> None:  # noqa: ANN001
    require_postgres()
    owner = make_user(roles.DEPARTMENT_USER)
    order = WorkOrder.objects.create(title="race", created_by=owner)
    barrier = threading.Barrier(8)
    outcomes: list[str] = []

    def attempt() -> None:
        copy = WorkOrder.objects.get(pk=order.pk)
        barrier.wait()
        try:
            perform_transition(copy, "submit", user=owner)
            outcomes.append("won")
        except (InvalidState, ConcurrentChange) as exc:
            outcomes.append(exc.code)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=attempt) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(30)
    assert outcomes.count("won") == 1, outcomes
    assert len(outcomes) == 8 and set(outcomes) <= {"won", "invalid_state", "concurrent_change"}
    assert TransitionLog.objects.filter(
        content_type=ContentType.objects.get_for_model(WorkOrder), object_id=order.pk).count() == 1


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_concurrent_tickets_get_distinct_consecutive_numbers(policy_defaults, make_user) -> None:  # noqa: ANN001
    require_postgres()
    owner = make_user(roles.DEPARTMENT_USER)
    first = WorkOrder.objects.create(title="first", created_by=owner)  # the year's sequence exists from here
    barrier = threading.Barrier(8)
    numbers: list[str] = []

    def create() -> None:
        barrier.wait()
        try:
            numbers.append(WorkOrder.objects.create(title="race", created_by=owner).number)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=create) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(30)
    sequence = sorted(int(n.rsplit("-", 1)[1]) for n in numbers)
    assert sequence == list(range(sequence[0], sequence[0] + 8))
    assert sequence[0] == int(first.number.rsplit("-", 1)[1]) + 1


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_a_ticket_being_written_does_not_hold_up_the_next_ones_number(policy_defaults, make_user) -> None:  # noqa: ANN001
    """A report whose transaction is still open (its clocks being started, its commit being flushed) does
    not make the next report wait for its number: the next one is numbered while the first is in flight."""
    require_postgres()
    owner = make_user(roles.DEPARTMENT_USER)
    WorkOrder.objects.create(title="first", created_by=owner)
    taken, release = threading.Event(), threading.Event()
    in_flight: list[str] = []

    def write_slowly() -> None:
        try:
            with transaction.atomic():
                in_flight.append(WorkOrder.objects.create(title="in flight", created_by=owner).number)
                taken.set()
                release.wait(30)
        finally:
            connections.close_all()

    thread = threading.Thread(target=write_slowly)
    thread.start()
    try:
        assert taken.wait(30)
        with transaction.atomic(), connection.cursor() as cursor:
            cursor.execute("SET LOCAL lock_timeout = '2s'")  # waiting for the other's commit fails here
            number = WorkOrder.objects.create(title="next", created_by=owner).number
    finally:
        release.set()
        thread.join(30)
    assert int(number.rsplit("-", 1)[1]) == int(in_flight[0].rsplit("-", 1)[1]) + 1
    assert WorkOrder.objects.filter(number__in=[number, *in_flight]).count() == 2


@pytest.mark.postgres
@pytest.mark.django_db
def test_a_years_numbers_continue_after_those_the_table_handed_out(make_user) -> None:  # noqa: ANN001
    """The first number of a year on PostgreSQL follows the table's count (numbers handed out before the
    sequences), and a number past 999,999 keeps all its digits."""
    require_postgres()
    TicketSequence.objects.create(prefix="WO", year=2031, last=41)
    assert TicketSequence.next_number("WO", 2031) == "WO-2031-000042"
    assert TicketSequence.take("WO", 2031, 3) == [43, 44, 45]
    TicketSequence.objects.create(prefix="WO", year=2032, last=999_999)
    assert TicketSequence.next_number("WO", 2032) == "WO-2032-1000000"
    assert TicketSequence.next_number("WO", 2033) == "WO-2033-000001"  # a year nobody numbered yet
    with transaction.atomic():
        TicketSequence.objects.create(prefix="WX", year=2031, last=7)
        assert TicketSequence.next_number("WX", 2031) == "WX-2031-000008"
        transaction.set_rollback(True)  # the sequence is rolled back with the transaction that created it
    TicketSequence.objects.create(prefix="WX", year=2031, last=70)
    assert TicketSequence.next_number("WX", 2031) == "WX-2031-000071"



@pytest.mark.postgres
@pytest.mark.django_db
def test_a_years_sequence_starts_after_the_highest_number_its_tickets_carry(make_user) -> None:  # noqa: ANN001
    """Tickets restored without their sequence, or numbered by a release that counted with the table: the
    sequence created for their year goes on after the highest of their numbers (by value, not as text)."""
    require_postgres()
    owner = make_user(roles.DEPARTMENT_USER)
    TicketSequence.objects.create(prefix="WO", year=2034, last=7)
    for number in ("WO-2034-000050", "WO-2034-999999", "WO-2034-1000002", "WO-2035-5000000", "WO-2034-odd"):
        WorkOrder.objects.create(title=number, created_by=owner, number=number)
    assert TicketSequence.next_number("WO", 2034, WorkOrder) == "WO-2034-1000003"
    assert TicketSequence.next_number("WO", 2036, WorkOrder) == "WO-2036-000001"


class _Hook(http.server.BaseHTTPRequestHandler):
    received: list[dict] = []

    def do_POST(self) -> None:  # noqa: N802
        body = self.rfile.read(int(self.headers["Content-Length"]))
        type(self).received.append({"body": json.loads(body), "event": self.headers["X-OpsCenter-Event"]})
        self.send_response(204)
        self.end_headers()

    def log_message(self, *args) -> None:  # noqa: ANN002
        pass


@pytest.mark.celery
@pytest.mark.django_db(transaction=True)
def test_real_worker_delivers_the_outbox_end_to_end(policy_defaults, make_user, tmp_path: Path) -> None:  # noqa: ANN001
    require_postgres_and_redis()
    hook = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _Hook)
    threading.Thread(target=hook.serve_forever, daemon=True).start()
    WebhookEndpoint.objects.create(name="test", url=f"http://127.0.0.1:{hook.server_port}/hook")
    engineer = make_user(roles.SYSTEM_ENGINEER, email="eng@example.com")
    try:
        with celery_worker(tmp_path) as worker:
            outbox.notify(event="incident.p1", recipients=[engineer], subject="P1: ERP down", link="/x/")
            delivered = wait_for(lambda: not Notification.objects.exclude(status=DeliveryStatus.SENT).exists())
            assert delivered, "the worker did not deliver: " + drain(worker)
            assert {r["event"] for r in _Hook.received} == {"incident.p1"}
            assert len(list(tmp_path.iterdir())) == 1  # one email, once
            assert outbox.unread_count(engineer) == 1

            # A row the broker never heard of (an outage) is delivered by the sweep task on the worker.
            [row] = Notification.objects.bulk_create([Notification(
                event="missed", channel=Channel.IN_APP, recipient=engineer, subject="missed")])
            from opscenter.core.tasks import sweep_outbox

            sweep_outbox.delay()
            assert wait_for(lambda: Notification.objects.get(pk=row.pk).status == DeliveryStatus.SENT), drain(worker)
            assert Notification.objects.filter(status=DeliveryStatus.SENT).count() == 4
    finally:
        hook.shutdown()
        _Hook.received.clear()
