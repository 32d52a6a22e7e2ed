"""The kernel's small shared pieces: public holidays by region, CSV downloads, calendar feeds, the paging
extension point."""

from datetime import date
from typing import Any

import icalendar
import pytest
from django.http import Http404

from opscenter.core import extensions
from opscenter.core.feeds import calendar_response, event_host, feed_owner, new_calendar
from opscenter.core.models import FeedToken
from opscenter.core.public_holidays import knows_region, make_up_workdays, public_holidays
from opscenter.core.spreadsheets import csv_response


def test_public_holidays_of_a_region() -> None:
    assert date(2026, 10, 1) in public_holidays("CN", "", 2026)  # 國慶日
    assert date(2026, 10, 10) in public_holidays("TW", "", 2026)  # 國慶日
    assert public_holidays("", "", 2026) == frozenset()
    assert date(2026, 2, 14) in make_up_workdays("CN", "", 2026)  # a Saturday worked before the Spring Festival
    assert make_up_workdays("TW", "", 2026) == frozenset()
    assert knows_region("CN") and knows_region("DE", "BY") and not knows_region("XX")


def test_a_csv_download_reads_in_spreadsheet_programs() -> None:
    response = csv_response("figures.csv", [["name", "hours"], ["=SUM(A1)", 12], ["陳大文", 8.5]])
    assert response["Content-Type"].startswith("text/csv")
    assert response["Content-Disposition"] == 'attachment; filename="figures.csv"'
    text = response.content.decode("utf-8")
    assert text.startswith("\ufeff")
    assert text.splitlines()[1:] == ["'=SUM(A1),12", "陳大文,8.5"]


@pytest.mark.django_db
def test_a_feed_key_names_its_active_owner(make_user: Any) -> None:
    user = make_user()
    key = FeedToken.for_user(user).key
    assert feed_owner(key) == user
    for wrong in ("", "nope", "a\x00b", FeedToken.regenerate(user).key[:-1]):
        with pytest.raises(Http404):
            feed_owner(wrong)
    with pytest.raises(Http404):
        feed_owner(key)  # revoked by regenerating


def test_a_calendar_answer_parses() -> None:
    calendar = new_calendar("Test", "日曆")
    response = calendar_response(calendar, "test.ics")
    assert response["Content-Type"].startswith("text/calendar")
    parsed = icalendar.Calendar.from_ical(response.content)
    assert str(parsed["x-wr-calname"]) == "日曆" and str(parsed["prodid"]) == "-//OpsCenter//Test//EN"
    assert event_host("https://ops.example.com/") == "ops.example.com" and event_host("") == "opscenter"


def test_the_first_registered_resolver_that_answers_names_the_first_wave(monkeypatch: Any) -> None:
    monkeypatch.setattr(extensions, "_paging_resolvers", [])  # as without the apps that register one
    def silent(team: Any, at: Any) -> None:
        return None

    def answering(team: Any, at: Any) -> list[str]:
        return [f"{team}@{at}"]

    assert extensions.paging_first_wave("sys", 1) is None
    extensions.register_paging_resolver(silent)
    extensions.register_paging_resolver(silent)  # once
    assert extensions.paging_first_wave("sys", 1) is None
    extensions.register_paging_resolver(answering)
    assert extensions.paging_first_wave("sys", 1) == ["sys@1"]
    extensions.unregister_paging_resolver(answering)
    assert extensions.paging_first_wave("sys", 1) is None
