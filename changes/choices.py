"""Enumerations of change management."""

from django.db import models
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy


class State(models.TextChoices):
    DRAFT = "draft", _("Draft")
    SUBMITTED = "submitted", _("Submitted")
    ASSESSING = "assessing", _("Assessing")
    AWAITING_APPROVAL = "awaiting_approval", _("Awaiting approval")
    APPROVED = "approved", _("Approved")
    SCHEDULED = "scheduled", _("Scheduled")
    IMPLEMENTING = "implementing", _("Implementing")
    VERIFYING = "verifying", _("Verifying")
    COMPLETED = "completed", _("Completed")
    CLOSED = "closed", _("Closed")
    REJECTED = "rejected", _("Rejected")
    CANCELLED = "cancelled", _("Cancelled")
    FAILED = "failed", _("Failed")
    ROLLED_BACK = "rolled_back", _("Rolled back")


# Before approval: the requester may still withdraw it.
BEFORE_APPROVAL = [State.DRAFT, State.SUBMITTED, State.ASSESSING, State.AWAITING_APPROVAL]
# Approved content is frozen in these states: editing it sends the change back for approval.
FROZEN_STATES = [State.APPROVED, State.SCHEDULED]
# Changes that hold their window on the calendar and conflict with others.
CALENDAR_STATES = [State.APPROVED, State.SCHEDULED, State.IMPLEMENTING]
OPEN_STATES = [State.DRAFT, State.SUBMITTED, State.ASSESSING, State.AWAITING_APPROVAL, State.APPROVED,
               State.SCHEDULED, State.IMPLEMENTING, State.VERIFYING, State.COMPLETED, State.FAILED,
               State.ROLLED_BACK]
FINAL_STATES = [State.CLOSED, State.REJECTED, State.CANCELLED]


class ChangeType(models.TextChoices):
    STANDARD = "standard", _("Standard")
    NORMAL = "normal", _("Normal")
    EMERGENCY = "emergency", _("Emergency")


class Category(models.TextChoices):
    HARDWARE_REPLACEMENT = "hardware_replacement", _("Hardware replacement")
    SOFTWARE_UPGRADE = "software_upgrade", _("Software upgrade")
    NETWORK_CONFIGURATION = "network_configuration", _("Network configuration")
    OTHER = "other", _("Other")


class RiskLevel(models.TextChoices):
    LOW = "low", _("Low")
    MEDIUM = "medium", _("Medium")
    HIGH = "high", _("High")
    MAJOR = "major", _("Major")


RISK_ORDER = [RiskLevel.LOW, RiskLevel.MEDIUM, RiskLevel.HIGH, RiskLevel.MAJOR]


def risk_rank(level: str) -> int:
    return RISK_ORDER.index(level) if level in RISK_ORDER else -1


class ApprovalMode(models.TextChoices):
    APPROVER = "approver", _("Change approver(s)")
    JOINT = "joint", _("Joint review by named CAB members")


class Decision(models.TextChoices):
    APPROVE = "approve", _("Approve")
    REJECT = "reject", _("Reject")


class Recommendation(models.TextChoices):
    SUPPORT = "support", _("Support")
    CONCERNS = "concerns", _("Support with concerns")
    OPPOSE = "oppose", _("Oppose")


class StepStatus(models.TextChoices):
    PENDING = "pending", pgettext_lazy("implementation step", "Pending")
    DONE = "done", _("Done")
    SKIPPED = "skipped", _("Skipped")


class Outcome(models.TextChoices):
    SUCCESSFUL = "successful", _("Successful")
    ROLLED_BACK = "rolled_back", _("Rolled back")


class TemplateState(models.TextChoices):
    PROPOSED = "proposed", _("Proposed")
    APPROVED = "approved", _("Approved")
    RETIRED = "retired", _("Retired")
