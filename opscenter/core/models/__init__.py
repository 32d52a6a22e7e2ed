"""Kernel models: organisation, service catalogue and CMDB, workflow records, notifications."""

from opscenter.core.models.catalog import ConfigurationItem, Service
from opscenter.core.models.feeds import FeedToken
from opscenter.core.models.notifications import Notification, WebhookEndpoint
from opscenter.core.models.organisation import Department, Team, User
from opscenter.core.models.signin import SignInAttempt, SignInFailure
from opscenter.core.models.workflow import (
    AppendOnlyModel,
    Attachment,
    Comment,
    FieldChange,
    Ticket,
    TicketQuerySet,
    TicketSequence,
    TimelineRow,
    TransitionLog,
    append_only_triggers,
)

__all__ = [
    "AppendOnlyModel",
    "Attachment",
    "Comment",
    "ConfigurationItem",
    "Department",
    "FeedToken",
    "FieldChange",
    "Notification",
    "Service",
    "SignInAttempt",
    "SignInFailure",
    "Team",
    "Ticket",
    "TicketQuerySet",
    "TicketSequence",
    "TimelineRow",
    "TransitionLog",
    "User",
    "WebhookEndpoint",
    "append_only_triggers",
]
