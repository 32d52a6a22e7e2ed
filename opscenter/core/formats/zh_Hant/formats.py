"""The one date-time format of the pages (opscenter.core.formatting.DATETIME_FORMAT) in Django's notation."""

DATE_FORMAT = SHORT_DATE_FORMAT = "Y-m-d"
DATETIME_FORMAT = SHORT_DATETIME_FORMAT = "Y-m-d H:i"
TIME_FORMAT = "H:i"
