"""Enumerations of problem management."""

from django.db import models
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy


class State(models.TextChoices):
    IDENTIFIED = "identified", _("Identified")
    INVESTIGATING = "investigating", _("Investigating")
    ANALYZING = "analyzing", _("Analysing")
    SOLVING = "solving", _("Solving")
    VERIFYING = "verifying", _("Verifying")
    UNDER_REVIEW = "under_review", _("Report under review")
    CLOSED = "closed", _("Closed")
    CANCELLED = "cancelled", _("Cancelled")


OPEN_STATES = [State.IDENTIFIED, State.INVESTIGATING, State.ANALYZING, State.SOLVING, State.VERIFYING,
               State.UNDER_REVIEW]
# From analysis onward a known error may be recorded (the root cause is being or has been found).
KNOWN_ERROR_STATES = [State.ANALYZING, State.SOLVING, State.VERIFYING, State.UNDER_REVIEW, State.CLOSED]


class Source(models.TextChoices):
    INCIDENTS = "incidents", _("Recurring incidents")
    MONITORING = "monitoring", _("Monitoring alarm")
    FEEDBACK = "feedback", _("User feedback")
    PROACTIVE = "proactive", _("Found by an engineer")


class FishboneCategory(models.TextChoices):
    """The branches of a cause-and-effect (fishbone) diagram."""

    # In a context of their own: "Process" is elsewhere the process an incident report tells (處理過程).
    PEOPLE = "people", pgettext_lazy("fishbone", "People")
    PROCESS = "process", pgettext_lazy("fishbone", "Process")
    TECHNOLOGY = "technology", pgettext_lazy("fishbone", "Technology and equipment")
    ENVIRONMENT = "environment", pgettext_lazy("fishbone", "Environment")
    SUPPLIERS = "suppliers", pgettext_lazy("fishbone", "Suppliers")
    MEASUREMENT = "measurement", pgettext_lazy("fishbone", "Measurement")


class ActionState(models.TextChoices):
    OPEN = "open", _("Open")
    IN_PROGRESS = "in_progress", _("In progress")
    DONE = "done", _("Done")
    DROPPED = "dropped", _("Dropped")


class KnownErrorState(models.TextChoices):
    DRAFT = "draft", _("Draft")
    PUBLISHED = "published", _("Published")
    RETIRED = "retired", _("Retired")


class CandidateState(models.TextChoices):
    PROPOSED = "proposed", _("Proposed")
    ACCEPTED = "accepted", _("Accepted")
    DISMISSED = "dismissed", _("Dismissed")
