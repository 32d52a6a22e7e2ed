"""Enumerations of the kernel."""

from django.db import models
from django.utils.translation import gettext_lazy as _


class TeamKind(models.TextChoices):
    SYSTEM = "system", _("System")
    NETWORK = "network", _("Network")
    DESKTOP = "desktop", _("Desktop")
    SECURITY = "security", _("Security")
    OTHER = "other", _("Other")


class Criticality(models.TextChoices):
    CRITICAL = "critical", _("Critical")
    HIGH = "high", _("High")
    MEDIUM = "medium", _("Medium")
    LOW = "low", _("Low")


class CIType(models.TextChoices):
    SERVER = "server", _("Server")
    STORAGE = "storage", _("Storage")
    DATABASE = "database", _("Database")
    APPLICATION = "application", _("Application software")
    NETWORK_DEVICE = "network_device", _("Network device")
    SECURITY_DEVICE = "security_device", _("Security device")
    DESKTOP = "desktop", _("Desktop")
    PRINTER = "printer", _("Printer / copier")
    OTHER = "other", _("Other")


class CIStatus(models.TextChoices):
    PLANNED = "planned", _("Planned")
    IN_USE = "in_use", _("In use")
    MAINTENANCE = "maintenance", _("Under maintenance")
    RETIRED = "retired", _("Retired")


class Channel(models.TextChoices):
    IN_APP = "in_app", _("In-app")
    EMAIL = "email", _("Email")
    WEBHOOK = "webhook", _("Webhook")


class DeliveryStatus(models.TextChoices):
    PENDING = "pending", _("Pending")
    SENDING = "sending", _("Sending")
    SENT = "sent", _("Sent")
    FAILED = "failed", _("Failed")
