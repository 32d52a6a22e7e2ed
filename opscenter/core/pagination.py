"""A page-number paginator that counts rows only as far as the page asked for needs."""

import math
from functools import cached_property
from typing import Any

from django.core.paginator import Page, Paginator
from django.db.models import IntegerField
from django.db.models.expressions import RawSQL
from django.db.models.query import ModelIterable


class CappedCountPaginator(Paginator):
    """Counts at most `cap` rows, or as far as the requested page reaches when it lies deeper.

    Counting every row a supervisor may see (100,000 incidents) cost more than fetching and showing a page
    of them; counting the first thousand costs well under a millisecond. Past that, `count` is a lower
    bound: `count_is_exact` is False, `count_shown` (the rows counted) is what a page shows as “1000+”,
    and `num_pages` covers what was counted, so the requested page and whether a next one exists are
    always known. `count_everything()` asks for the exact count (an API client's `page=last`).

    A page of a queryset of model instances is read with its count in one statement: the capped count rides
    along as a column of the page's rows (an uncorrelated subquery, computed once). Only a page that comes
    back empty is counted on its own, to tell an empty list (page 1) from a number past the end.
    """

    cap = 1000
    # The deepest reach counted: LIMIT is a 64-bit integer, and a page number from a URL is not bounded
    # (page=18446744073709551615 made the count query fail). No page lies that deep.
    max_reach = 2**62

    def __init__(self, object_list: Any, per_page: int, *args: Any, cap: int | None = None, **kwargs: Any) -> None:
        super().__init__(object_list, per_page, *args, **kwargs)
        if cap is not None:
            self.cap = cap
        self.reach: int | None = self.cap

    def count_everything(self) -> None:
        self.reach = None

    def page(self, number: Any) -> Page:
        page = self._page_with_count(number)
        return super().page(number) if page is None else page

    def get_page(self, number: Any) -> Page:
        page = self._page_with_count(number)
        return super().get_page(number) if page is None else page

    def _page_with_count(self, number: Any) -> Page | None:
        """The page and the count with one statement, or None where the count must come first."""
        rows = self.object_list
        if ("count" in self.__dict__ or self.orphans or not hasattr(rows, "query")
                or rows._iterable_class is not ModelIterable or rows.query.is_sliced or rows.query.combinator):
            return None
        try:
            wanted = int(number)
        except (TypeError, ValueError, OverflowError):
            return None
        if wanted < 1 or wanted != number and str(wanted) != str(number):
            return None
        # The reach, as validate_number settles it: far enough to hold this page and tell whether one follows.
        self.reach = None if self.reach is None else min(max(self.cap, wanted * self.per_page), self.max_reach)
        bottom = (wanted - 1) * self.per_page
        if bottom >= self.max_reach:
            return None
        counted = rows.order_by().values("pk")
        if self.reach is not None:
            counted = counted[: self.reach + 1]
        sql, params = counted.query.get_compiler(rows.db).as_sql()
        found = list(rows.annotate(_paginator_count=RawSQL(
            f"SELECT COUNT(*) FROM ({sql}) _paginator_rows", params, output_field=IntegerField()))[
            bottom:bottom + self.per_page])
        if not found:
            if wanted == 1:  # nothing at all: an empty first page, counted already
                self.__dict__["count"] = 0
                return super().page(1) if self.allow_empty_first_page else None
            return None
        self.__dict__["count"] = found[0]._paginator_count
        return self._get_page(found, wanted, self)

    def validate_number(self, number: Any) -> int:
        # Count far enough to hold the page asked for and to tell whether another follows it.
        if "count" not in self.__dict__ and self.reach is not None:
            try:
                wanted = int(number)
            except (TypeError, ValueError):
                pass
            else:
                self.reach = min(max(self.cap, wanted * self.per_page + self.orphans), self.max_reach)
        return super().validate_number(number)

    @cached_property
    def count(self) -> int:
        rows = self.object_list
        if not hasattr(rows, "query"):  # a list, not a queryset: its length is known
            self.reach = None
            return len(rows)
        rows = rows.order_by().values("pk")  # any index will do for counting
        if self.reach is None:
            return rows.count()
        # One row past the reach: it says that there is more without counting the rest.
        return rows[: self.reach + 1].count()

    @property
    def count_is_exact(self) -> bool:
        count = self.count  # first: counting may settle the reach
        return self.reach is None or count <= self.reach

    @property
    def count_shown(self) -> int:
        """The exact count, or the rows counted when there are more (shown with a “+”)."""
        return self.count if self.count_is_exact else self.reach  # type: ignore[return-value]

    @property
    def pages_shown(self) -> int:
        """The number of pages, or the pages counted when there are more (shown with a “+”)."""
        return self.num_pages if self.count_is_exact else max(1, math.ceil(self.count_shown / self.per_page))
