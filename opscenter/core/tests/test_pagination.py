"""The capped count: exact up to the cap, a lower bound past it, and every page still reachable."""

import pytest
from django.core.paginator import EmptyPage

from opscenter.core.models import Department
from opscenter.core.pagination import CappedCountPaginator

pytestmark = pytest.mark.django_db


@pytest.fixture
def rows():  # noqa: ANN201
    Department.objects.bulk_create([Department(code=f"p-{n:02d}", name=f"P {n:02d}") for n in range(23)])
    return Department.objects.filter(code__startswith="p-").order_by("code")


def codes(page) -> list[str]:  # noqa: ANN001
    return [row.code for row in page]


def test_counts_exactly_up_to_the_cap(rows) -> None:  # noqa: ANN001
    paginator = CappedCountPaginator(rows, 5, cap=30)
    page = paginator.page(1)
    assert paginator.count_is_exact and paginator.count == paginator.count_shown == 23
    assert paginator.num_pages == paginator.pages_shown == 5 and page.has_next()


def test_past_the_cap_the_count_is_a_lower_bound(rows) -> None:  # noqa: ANN001
    paginator = CappedCountPaginator(rows, 5, cap=10)
    page = paginator.page(1)
    assert not paginator.count_is_exact
    assert (paginator.count_shown, paginator.pages_shown) == (10, 2)
    assert page.has_next() and codes(page) == [f"p-{n:02d}" for n in range(5)]


def test_a_page_past_the_cap_is_counted_as_far_as_it_needs(rows) -> None:  # noqa: ANN001
    paginator = CappedCountPaginator(rows, 5, cap=10)
    page = paginator.page(3)
    assert not paginator.count_is_exact and page.has_next() and page.has_previous()
    assert codes(page) == [f"p-{n:02d}" for n in range(10, 15)]
    last = CappedCountPaginator(rows, 5, cap=10).page(5)
    assert last.paginator.count_is_exact and last.paginator.count == 23
    assert not last.has_next() and codes(last) == ["p-20", "p-21", "p-22"]
    with pytest.raises(EmptyPage):
        CappedCountPaginator(rows, 5, cap=10).page(6)


def test_get_page_beyond_the_end_shows_the_last_page(rows) -> None:  # noqa: ANN001
    page = CappedCountPaginator(rows, 5, cap=10).get_page("999")
    assert page.number == 5 and page.paginator.count_is_exact


def test_count_everything(rows) -> None:  # noqa: ANN001
    paginator = CappedCountPaginator(rows, 5, cap=10)
    paginator.count_everything()
    assert paginator.count_is_exact and paginator.count == 23 and paginator.num_pages == 5


def test_a_list_is_counted_by_its_length() -> None:
    paginator = CappedCountPaginator(list(range(23)), 5, cap=10)
    assert paginator.count_is_exact and paginator.count == 23


def test_a_page_is_a_capped_count_then_the_page(rows, django_assert_num_queries) -> None:  # noqa: ANN001
    with django_assert_num_queries(2):
        page = CappedCountPaginator(rows, 5, cap=10).page(2)
        assert codes(page) == [f"p-{n:02d}" for n in range(5, 10)]
        assert not page.paginator.count_is_exact and page.paginator.count_shown == 10 and page.has_next()
    with django_assert_num_queries(2):
        page = CappedCountPaginator(rows, 5, cap=30).get_page("5")
        assert codes(page) == ["p-20", "p-21", "p-22"] and page.paginator.count == 23 and not page.has_next()


def test_an_empty_list_is_only_counted_and_a_page_past_the_end_shows_the_last(rows, django_assert_num_queries) -> None:  # noqa: ANN001, E501
    with django_assert_num_queries(1):
        page = CappedCountPaginator(rows.filter(code="none"), 5).get_page(None)
        assert list(page) == [] and page.paginator.count == 0 and page.number == 1
    with django_assert_num_queries(1):
        page = CappedCountPaginator(rows.filter(code="none"), 5).page(1)
        assert list(page) == [] and page.paginator.num_pages == 1
    with django_assert_num_queries(2):  # counted past the page asked for: the last page is shown
        page = CappedCountPaginator(rows, 5, cap=10).get_page("7")
        assert page.number == 5 and codes(page) == ["p-20", "p-21", "p-22"] and page.paginator.count == 23
    with pytest.raises(EmptyPage):
        CappedCountPaginator(rows.filter(code="none"), 5, allow_empty_first_page=False).page(1)
    with pytest.raises(EmptyPage):
        CappedCountPaginator(rows, 5).page(0)


def test_the_count_follows_the_filters_and_values_lists_are_counted_too(rows) -> None:  # noqa: ANN001
    filtered = rows.filter(code__lt="p-07")
    page = CappedCountPaginator(filtered, 5, cap=30).page(2)
    assert codes(page) == ["p-05", "p-06"] and page.paginator.count == 7
    page = CappedCountPaginator(rows.values("code"), 5, cap=30).page(5)
    assert [r["code"] for r in page] == ["p-20", "p-21", "p-22"] and page.paginator.count == 23


def test_grouped_rows_are_counted_as_rows(rows) -> None:  # noqa: ANN001
    from django.db.models import Count

    grouped = rows.annotate(n=Count("pk")).order_by("code")
    page = CappedCountPaginator(grouped, 5, cap=30).page(5)
    assert codes(page) == ["p-20", "p-21", "p-22"] and page.paginator.count == 23 and page[0].n == 1
    capped = CappedCountPaginator(grouped, 5, cap=10)
    assert capped.page(1).has_next() and not capped.count_is_exact and capped.count_shown == 10
