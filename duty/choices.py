"""Enumerations of the duty process."""

from django.db import models
from django.utils.translation import gettext_lazy as _


class RosterState(models.TextChoices):
    DRAFT = "draft", _("Draft")
    PUBLISHED = "published", _("Published")


class Attendance(models.TextChoices):
    """Where a person stands with a shift: expected until checked in, on duty, done; absent when not checked in
    by the policy's limit (a late check-in after that still records the arrival)."""

    EXPECTED = "expected", _("Expected")
    ON_DUTY = "on_duty", _("On duty")
    DONE = "done", _("Checked out")
    ABSENT = "absent", _("Absent")


class SwapKind(models.TextChoices):
    GIVE = "give", _("Give the shift (or part of it)")
    TRADE = "trade", _("Trade shifts")


class SwapState(models.TextChoices):
    REQUESTED = "requested", _("Requested")
    ACCEPTED = "accepted", _("Accepted by the colleague")
    APPROVED = "approved", _("Approved")
    REJECTED = "rejected", _("Rejected")
    CANCELLED = "cancelled", _("Cancelled")
    EXPIRED = "expired", _("Expired")


class HandoverState(models.TextChoices):
    WRITTEN = "written", _("Waiting for acknowledgement")
    ACKNOWLEDGED = "acknowledged", _("Acknowledged")


class LogKind(models.TextChoices):
    ALARM = "alarm", _("Alarm handled")
    FAULT = "fault", _("Fault reported")
    CALL = "call", _("Call")
    NOTICE = "notice", _("Notice given")
    OTHER = "other", _("Other")


# --- roster ---


class FindingKind(models.TextChoices):
    """What the coverage check lists on a roster (and what blocks publishing until resolved or accepted)."""

    GAP = "gap", _("Coverage gap")
    STINT = "stint", _("Over-long stint")
    REST = "rest", _("Short rest")
