"""One date-time format on every page: local time to the minute, from templates, fragments and Python alike."""

from datetime import UTC, date, datetime

import pytest
from django.template import engines
from django.utils import timezone

from opscenter.core.formatting import local_datetime
from opscenter.core.jinja import local

MOMENT = datetime(2026, 11, 17, 21, 50, 30, tzinfo=UTC)  # 2026-11-18 05:50 in Asia/Shanghai


@pytest.fixture(autouse=True)
def center_zone(settings) -> None:  # noqa: ANN001
    settings.TIME_ZONE = "Asia/Shanghai"


def test_a_date_time_reads_in_local_time_to_the_minute_with_a_space() -> None:
    assert local_datetime(MOMENT) == "2026-11-18 05:50"
    assert local_datetime(MOMENT.isoformat()) == "2026-11-18 05:50"  # a snapshot's JSON string
    assert local_datetime(date(2026, 11, 18)) == "2026-11-18"
    assert local_datetime(None) == "" and local_datetime("") == ""


def test_a_zone_switched_for_the_request_is_the_one_shown() -> None:
    with timezone.override("Europe/London"):
        assert local_datetime(MOMENT) == "2026-11-17 21:50"


def test_pages_and_the_fragments_of_long_lists_show_the_same_text() -> None:
    page = engines["django"].from_string("{{ at|local_datetime }}|{{ none|local_datetime|default:'—' }}")
    assert page.render({"at": MOMENT, "none": None}) == "2026-11-18 05:50|—"
    fragment = engines["jinja2"].from_string("{{ at|local }}")
    assert fragment.render({"at": MOMENT}) == local(MOMENT) == "2026-11-18 05:50"


def test_no_template_formats_a_date_time_its_own_way() -> None:
    """Date-times go through `local_datetime`; `date` is left for dates (Y-m-d), months, a calendar's days and
    weekday names, and times of day."""
    import re
    from pathlib import Path

    from django.conf import settings

    own = re.compile(r"""\|date:["'](?!(Y-m-d|Y-m|m-d|c|D|j|H:i|YEAR_MONTH_FORMAT)["'])""")
    offenders = [f"{path}:{n}" for path in Path(settings.BASE_DIR, "templates").rglob("*.html")
                 for n, line in enumerate(path.read_text().splitlines(), 1) if own.search(line)]
    assert offenders == []
