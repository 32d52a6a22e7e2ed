"""Public holidays of a country or region (the `holidays` package), for every app that counts days: SLA business
calendars, duty reports. A region is a country code (CN, TW, HK …) and an optional subdivision."""

import functools
from datetime import date

from django.utils.translation import gettext_lazy as _

UNKNOWN_REGION = _("The holidays package does not know this country or region.")


def knows_region(country: str, subdivision: str = "") -> bool:
    """Whether the holidays package has the public holidays of this country (and subdivision)."""
    import holidays

    try:
        holidays.country_holidays(country, subdiv=subdivision or None)
    except NotImplementedError:
        return False
    return True


@functools.cache
def _calendar(country: str, subdivision: str, year: int):  # noqa: ANN202
    import holidays

    return holidays.country_holidays(country, subdiv=subdivision or None, years=year)


@functools.cache
def public_holidays(country: str, subdivision: str, year: int) -> frozenset[date]:
    """The public holidays of a year; none without a country."""
    if not country:
        return frozenset()
    return frozenset(_calendar(country, subdivision or "", year))


@functools.cache
def make_up_workdays(country: str, subdivision: str, year: int) -> frozenset[date]:
    """Weekend days that are working days in the year (調休, e.g. in China); none where the country has none."""
    if not country:
        return frozenset()
    return frozenset(day for day in getattr(_calendar(country, subdivision or "", year), "weekend_workdays", ())
                     if day.year == year)
