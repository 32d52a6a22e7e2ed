"""Ticket numbers (INC-2026-000123): counted per prefix and year, never repeated; on PostgreSQL drawn from
sequences made ahead of need by a migration and a daily task, never by a report."""

import datetime as dt
import threading

import pytest
from django.apps import apps
from django.db import connection, connections, transaction
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from opscenter.core import roles, tasks
from opscenter.core.models import Ticket, TicketSequence
from opscenter.core.services import ticket_sequences_prepare
from opscenter.core.tests.real_services import require_postgres, wait_for
from opscenter.core.tests.workflow_app.models import WorkOrder

# Every installed ticket's prefix (incidents, changes, problems, known errors, the test app's work orders): a
# year's sequences are made for all of them.
PREFIXES = sorted({model.NUMBER_PREFIX for model in apps.get_models() if issubclass(model, Ticket)})


def in_year(year: int) -> dt.datetime:
    return dt.datetime(year, 6, 1, 12, tzinfo=dt.UTC)


def serial(number: str) -> int:
    return int(number.rsplit("-", 1)[1])


def drop_sequences(*names: str) -> None:
    with connection.cursor() as cursor:
        for name in names:
            cursor.execute(f"DROP SEQUENCE IF EXISTS {connection.ops.quote_name(name)}")


def test_every_process_numbers_its_tickets_with_its_own_prefix() -> None:
    assert PREFIXES == ["CHG", "INC", "KE", "PRB", "WO"]


@pytest.mark.django_db
def test_numbers_count_per_prefix_and_year_and_never_repeat(make_user) -> None:  # noqa: ANN001
    owner = make_user(roles.DEPARTMENT_USER)
    numbers = [WorkOrder.objects.create(title=f"{year}", created_by=owner, created_at=in_year(year)).number
               for year in (2041, 2041, 2042, 2041)]
    assert [n.rsplit("-", 1)[0] for n in numbers] == ["WO-2041", "WO-2041", "WO-2042", "WO-2041"]
    assert len(set(numbers)) == 4
    assert [serial(n) for n in numbers if n.startswith("WO-2041")] == [1, 2, 3]
    assert numbers[0] == "WO-2041-000001"


@pytest.mark.django_db
def test_preparing_the_sequences_makes_none_on_sqlite(make_user) -> None:  # noqa: ANN001
    if connection.vendor == "postgresql":
        pytest.skip("PostgreSQL has sequences: tested below")
    assert tasks.prepare_ticket_sequences() == []
    owner = make_user(roles.DEPARTMENT_USER)
    year = timezone.localdate().year
    assert serial(WorkOrder.objects.create(title="a", created_by=owner).number) == 1
    assert TicketSequence.objects.get(prefix="WO", year=year).last == 1


@pytest.mark.postgres
@pytest.mark.django_db
def test_the_task_run_twice_makes_the_sequences_once_after_the_numbers_handed_out(make_user) -> None:  # noqa: ANN001
    require_postgres()
    year = timezone.localdate().year
    prefixes = PREFIXES
    names = sorted(TicketSequence.sequence_name(prefix, y) for prefix in prefixes for y in (year, year + 1))
    drop_sequences(*names)  # as before the migration (rolled back with the test)
    owner = make_user(roles.DEPARTMENT_USER)
    before = WorkOrder.objects.create(title="counted on the row", created_by=owner).number
    assert sorted(tasks.prepare_ticket_sequences()) == names
    assert tasks.prepare_ticket_sequences() == []
    after = WorkOrder.objects.create(title="from the sequence", created_by=owner).number
    assert serial(after) == serial(before) + 1
    with connection.cursor() as cursor:
        cursor.execute("SELECT last_value, is_called FROM " + connection.ops.quote_name(
            TicketSequence.sequence_name("WO", year)))
        assert cursor.fetchone() == (serial(after), True)


@pytest.mark.postgres
@pytest.mark.django_db
def test_a_year_without_its_sequence_is_numbered_on_its_row_without_ddl(make_user) -> None:  # noqa: ANN001
    require_postgres()
    owner = make_user(roles.DEPARTMENT_USER)
    with CaptureQueriesContext(connection) as queries:
        numbers = [WorkOrder.objects.create(title="x", created_by=owner, created_at=in_year(2043)).number
                   for _ in range(3)]
    assert numbers == ["WO-2043-000001", "WO-2043-000002", "WO-2043-000003"]
    ddl = [q["sql"] for q in queries.captured_queries
           if q["sql"].lstrip().upper().startswith(("CREATE", "ALTER", "DROP"))]
    assert ddl == []
    assert ticket_sequences_prepare(years=[2043]) == [TicketSequence.sequence_name(p, 2043)
                                                      for p in PREFIXES]
    assert WorkOrder.objects.create(title="x", created_by=owner, created_at=in_year(2043)).number == "WO-2043-000004"


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_a_sequence_made_while_reports_count_on_the_row_never_repeats_a_number(policy_defaults, make_user) -> None:  # noqa: ANN001, E501
    """A report counting on the row holds it until it commits: the sequence made meanwhile waits and starts
    after it. A sequence being made holds the row: a report waiting for it takes the sequence's number."""
    require_postgres()
    owner = make_user(roles.DEPARTMENT_USER)
    year = 2044
    names = [TicketSequence.sequence_name(prefix, year) for prefix in PREFIXES]
    numbers: list[str] = []
    holding, release = threading.Event(), threading.Event()

    def waiting() -> int:
        with connection.cursor() as cursor:
            cursor.execute("SELECT count(*) FROM pg_stat_activity WHERE wait_event_type = 'Lock' "
                           "AND datname = current_database()")
            return cursor.fetchone()[0]

    def report_held_open() -> None:
        try:
            with transaction.atomic():
                numbers.append(WorkOrder.objects.create(title="on the row", created_by=owner,
                                                        created_at=in_year(year)).number)
                holding.set()
                release.wait(30)
        finally:
            connections.close_all()

    def prepare() -> None:
        try:
            ticket_sequences_prepare(years=[year])
        finally:
            connections.close_all()

    try:
        reporter = threading.Thread(target=report_held_open)
        reporter.start()
        assert holding.wait(30)
        preparer = threading.Thread(target=prepare)
        preparer.start()
        assert wait_for(lambda: waiting() >= 1, 30)  # the sequence waits for the report's commit
        release.set()
        reporter.join(30)
        preparer.join(30)
        numbers.append(WorkOrder.objects.create(title="from the sequence", created_by=owner,
                                                created_at=in_year(year)).number)
        assert [serial(n) for n in numbers] == [1, 2]

        year = 2045
        names += [TicketSequence.sequence_name(prefix, year) for prefix in PREFIXES]
        numbers.clear()
        made, release = threading.Event(), threading.Event()

        def prepare_held_open() -> None:
            try:
                with transaction.atomic():
                    TicketSequence.objects.create(prefix="WO", year=year, last=9)
                    TicketSequence.create_sequence("WO", year)
                    made.set()
                    release.wait(30)
            finally:
                connections.close_all()

        def report() -> None:
            try:
                with transaction.atomic():  # as the services report: one transaction from the first lookup
                    numbers.append(WorkOrder.objects.create(title="waits", created_by=owner,
                                                            created_at=in_year(year)).number)
            finally:
                connections.close_all()

        preparer = threading.Thread(target=prepare_held_open)
        preparer.start()
        assert made.wait(30)
        reporter = threading.Thread(target=report)
        reporter.start()
        assert wait_for(lambda: waiting() >= 1, 30)  # the report waits for the row
        release.set()
        preparer.join(30)
        reporter.join(30)
        numbers.append(WorkOrder.objects.create(title="next", created_by=owner, created_at=in_year(year)).number)
        assert [serial(n) for n in numbers] == [10, 11]
        with connection.cursor() as cursor:
            cursor.execute("SELECT last_value FROM " + connection.ops.quote_name(names[-1]))
            assert cursor.fetchone()[0] == 11  # both drawn from the sequence
    finally:
        release.set()
        drop_sequences(*names)


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_concurrent_tickets_get_distinct_consecutive_numbers(policy_defaults, make_user) -> None:  # noqa: ANN001
    require_postgres()
    owner = make_user(roles.DEPARTMENT_USER)
    ticket_sequences_prepare(years=[timezone.localdate().year])
    first = WorkOrder.objects.create(title="first", created_by=owner)
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
    ticket_sequences_prepare(years=[timezone.localdate().year])
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
def test_a_years_sequence_continues_after_the_numbers_its_row_handed_out(make_user) -> None:  # noqa: ANN001
    """A sequence made for a year follows the row's count (numbers handed out before the sequence), and a
    number past 999,999 keeps all its digits."""
    require_postgres()
    TicketSequence.objects.create(prefix="WO", year=2031, last=41)
    assert TicketSequence.create_sequence("WO", 2031)
    assert TicketSequence.next_number("WO", 2031) == "WO-2031-000042"
    assert TicketSequence.take("WO", 2031, 3) == [43, 44, 45]
    assert not TicketSequence.create_sequence("WO", 2031)  # there already: left as it is
    assert TicketSequence.take("WO", 2031, 2) == [46, 47]
    TicketSequence.objects.create(prefix="WO", year=2032, last=999_999)
    assert TicketSequence.create_sequence("WO", 2032)
    assert TicketSequence.next_number("WO", 2032) == "WO-2032-1000000"
    assert TicketSequence.create_sequence("WO", 2033)
    assert TicketSequence.next_number("WO", 2033) == "WO-2033-000001"  # a year nobody numbered yet


@pytest.mark.postgres
@pytest.mark.django_db
def test_a_years_sequence_starts_after_the_highest_number_its_tickets_carry(make_user) -> None:  # noqa: ANN001
    """Tickets restored without their sequence, or numbered on the row: the sequence made for their year goes
    on after the highest of their numbers (by value, not as text)."""
    require_postgres()
    owner = make_user(roles.DEPARTMENT_USER)
    TicketSequence.objects.create(prefix="WO", year=2034, last=7)
    for number in ("WO-2034-000050", "WO-2034-999999", "WO-2034-1000002", "WO-2035-5000000", "WO-2034-odd"):
        WorkOrder.objects.create(title=number, created_by=owner, number=number)
    assert ticket_sequences_prepare(years=[2034, 2036]) == [TicketSequence.sequence_name(prefix, year)
                                                            for prefix in PREFIXES
                                                            for year in (2034, 2036)]
    assert TicketSequence.next_number("WO", 2034) == "WO-2034-1000003"
    assert TicketSequence.next_number("WO", 2036) == "WO-2036-000001"
