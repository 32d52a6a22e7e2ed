"""A page-number paginator that counts rows only as far as the page asked for needs."""

import math
from functools import cached_property
from typing import Any

from django.core.paginator import Paginator


class CappedCountPaginator(Paginator):
    """Counts at most `cap` rows, or as far as the requested page reaches when it lies deeper.

    Counting every row a supervisor may see (100,000 incidents) cost more than fetching and showing a page
    of them; counting the first thousand costs well under a millisecond. Past that, `count` is a lower
    bound: `count_is_exact` is False, `count_shown` (the rows counted) is what a page shows as “1000+”,
    and `num_pages` covers what was counted, so the requested page and whether a next one exists are
    always known. `count_everything()` asks for the exact count (an API client's `page=last`).
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
