"""How figures read on every app's pages: durations in hours and minutes, instants in local time."""

from datetime import datetime, timedelta

from django.utils import timezone
from django.utils.translation import gettext as _


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
    """An instant in local time (settings.TIME_ZONE) to the minute, as the pages show it; "—" when none."""
    return timezone.localtime(moment).strftime("%Y-%m-%d %H:%M") if moment else "—"
