"""Enumerations of service levels and satisfaction surveys."""

from django.db import models
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy


class ExceptionKind(models.TextChoices):
    DAY_OFF = "day_off", _("Extra day off")
    WORKDAY = "workday", _("Make-up workday (調休)")


class ClockKind(models.TextChoices):
    RESPONSE = "response", _("Response")
    RESOLUTION = "resolution", pgettext_lazy("service level", "Resolution")
    OLA = "ola", _("Team (OLA)")


class BreachKind(models.TextChoices):
    """The targets a breach missed: a clock's time target, or a service's availability over a month."""

    RESPONSE = "response", _("Response")
    RESOLUTION = "resolution", pgettext_lazy("service level", "Resolution")
    OLA = "ola", _("Team (OLA)")
    AVAILABILITY = "availability", _("Availability")


class ClockState(models.TextChoices):
    RUNNING = "running", _("Running")
    PAUSED = "paused", _("Paused")
    STOPPED = "stopped", _("Stopped")


class ClockEventKind(models.TextChoices):
    START = "start", _("Started")
    PAUSE = "pause", _("Paused")
    RESUME = "resume", _("Resumed")
    STOP = "stop", _("Stopped")
    RETARGET = "retarget", _("Re-targeted")


class OutageKind(models.TextChoices):
    FULL = "full", _("Full outage")
    PARTIAL = "partial", _("Partial outage")


class EvaluationState(models.TextChoices):
    DRAFT = "draft", _("Draft")
    PUBLISHED = "published", _("Published")


class SurveyState(models.TextChoices):
    PENDING = "pending", _("To be sent")
    SENT = "sent", _("Sent")
    ANSWERED = "answered", _("Answered")
    EXPIRED = "expired", _("Expired")


class FollowUpState(models.TextChoices):
    OPEN = "open", _("Open")
    DONE = "done", _("Done")


class CampaignState(models.TextChoices):
    DRAFT = "draft", _("Draft")
    OPEN = "open", _("Open")
    CLOSED = "closed", _("Closed")


class QuestionKind(models.TextChoices):
    SCORE = "score", _("Score 1–5")
    TEXT = "text", _("Free text")
