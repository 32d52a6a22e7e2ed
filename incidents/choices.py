"""Enumerations of incident management."""

from django.db import models
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy


class State(models.TextChoices):
    REPORTED = "reported", _("Reported")
    CLASSIFIED = "classified", _("Classified")
    ASSIGNED = "assigned", _("Assigned")
    DIAGNOSING = "diagnosing", _("Diagnosing")
    HANDLING = "handling", _("Handling")
    RECOVERING = "recovering", _("Recovering")
    RESOLVED = "resolved", _("Resolved")
    UNDER_REVIEW = "under_review", _("Report under review")
    CLOSED = "closed", _("Closed")
    ON_HOLD = "on_hold", _("On hold")
    CANCELLED = "cancelled", _("Cancelled")


OPEN_STATES = [State.REPORTED, State.CLASSIFIED, State.ASSIGNED, State.DIAGNOSING, State.HANDLING,
               State.RECOVERING, State.ON_HOLD]
WORKING_STATES = [State.CLASSIFIED, State.ASSIGNED, State.DIAGNOSING, State.HANDLING, State.RECOVERING]
# Reclassified while it is worked (on hold included); a resolved incident keeps the priority it was resolved under.
RECLASSIFIABLE = [*WORKING_STATES, State.ON_HOLD]
BEFORE_HANDLING = [State.REPORTED, State.CLASSIFIED, State.ASSIGNED, State.DIAGNOSING]
FINISHED_STATES = [State.RESOLVED, State.UNDER_REVIEW, State.CLOSED, State.CANCELLED]
# Waiting for a team: the assign-by time (the P1 five-minute rule) counts in these.
ASSIGN_STATES = [State.REPORTED, State.CLASSIFIED]


class SlaTarget(models.TextChoices):
    """Which service-level target an incident's next SLA deadline is: the kinds of the SLA clocks that count the
    first response and the resolution (sla.choices.ClockKind has the same values)."""

    RESPONSE = "response", _("Response")
    RESOLUTION = "resolution", pgettext_lazy("service level", "Resolution")


class Channel(models.TextChoices):
    PHONE = "phone", _("Phone")
    EMAIL = "email", _("Email")
    IM = "im", _("Instant message")
    WEB = "web", _("Web")
    MONITORING = "monitoring", _("Monitoring")


class Level(models.IntegerChoices):
    HIGH = 1, _("High")
    MEDIUM = 2, _("Medium")
    LOW = 3, _("Low")


class Priority(models.TextChoices):
    P1 = "P1", _("P1 – critical")
    P2 = "P2", _("P2 – high")
    P3 = "P3", _("P3 – medium")
    P4 = "P4", _("P4 – low")


URGENT_PRIORITIES = (Priority.P1, Priority.P2)


class HoldReason(models.TextChoices):
    CALLER = "caller", _("Awaiting caller")
    VENDOR = "vendor", _("Awaiting vendor")
    PARTS = "parts", _("Awaiting parts")
    CHANGE = "change", _("Awaiting change")


class CancelReason(models.TextChoices):
    DUPLICATE = "duplicate", _("Duplicate")
    FALSE_ALARM = "false_alarm", _("False alarm")
