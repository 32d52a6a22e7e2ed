"""How figures read on every app's pages: date-times in the center's time zone in one format, durations in hours
and minutes."""

from datetime import date, datetime, timedelta

from django.utils import timezone
from django.utils.translation import gettext as _

# Every date-time a person reads (pages, fragments, the admin, notifications): local time, to the minute.
DATETIME_FORMAT = "%Y-%m-%d %H:%M"
DATE_FORMAT = "%Y-%m-%d"


def local_datetime(value: datetime | date | str | None) -> str:
    """A date-time in the center's time zone as every page shows it (“2026-11-18 05:50”); a date alone as
    “2026-11-18”; an ISO 8601 string (a snapshot's JSON) read first; nothing for nothing (templates add “—”)."""
    if value is None or value == "":
        return ""
    if isinstance(value, str):
        value = datetime.fromisoformat(value)
    if isinstance(value, datetime):
        return (timezone.localtime(value) if timezone.is_aware(value) else value).strftime(DATETIME_FORMAT)
    return value.strftime(DATE_FORMAT)


def humanise_duration(value: timedelta | None) -> str:
    """Hours and minutes, e.g. “3 h 05 min”; “—” when there is nothing to average."""
    if value is None:
        return "—"
    minutes = max(0, round(value.total_seconds() / 60))
    hours, minutes = divmod(minutes, 60)
    if not hours:
        return _("%(minutes)d min") % {"minutes": minutes}
    return _("%(hours)d h %(minutes)02d min") % {"hours": hours, "minutes": minutes}


def local_minute(moment: datetime | None) -> str:
    """`local_datetime`, "—" when there is none."""
    return local_datetime(moment) or "—"
