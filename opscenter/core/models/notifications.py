"""The notifications outbox and outbound webhook endpoints."""

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from opscenter.core.choices import Channel, DeliveryStatus
from opscenter.core.webhook_addresses import validate_webhook_url


class WebhookEndpoint(models.Model):
    """An outside system that receives events as signed JSON posts."""

    name = models.CharField(_("name"), max_length=120, unique=True)
    url = models.URLField(_("URL"), validators=[validate_webhook_url],
                          help_text=_("A public address; a private one only where the settings allow its network."))
    secret = models.CharField(_("signing secret"), max_length=128, blank=True)
    events = models.JSONField(
        _("events"), default=list, blank=True, help_text=_("Event names to send; empty sends every event.")
    )
    is_active = models.BooleanField(_("active"), default=True)
    language = models.CharField(_("language"), max_length=16, choices=settings.LANGUAGES, blank=True,
                                help_text=_("The language of the subject and body it receives; blank: the site's."))

    class Meta:
        ordering = ["name"]
        verbose_name = _("webhook endpoint")
        verbose_name_plural = _("webhook endpoints")

    def __str__(self) -> str:
        return self.name

    def wants(self, event: str) -> bool:
        return self.is_active and (not self.events or event in self.events)


class Notification(models.Model):
    """One message to one recipient on one channel, written with the event, delivered after commit.

    `event` is the notification's kind and `payload` the event's parameters: the text is rendered for whoever
    reads it (opscenter.core.notification_kinds). `subject` and `body` hold text only for rows written as text
    (before kinds, or by a caller that passed `subject=`), shown as stored."""

    event = models.CharField(_("event"), max_length=64)
    channel = models.CharField(_("channel"), max_length=16, choices=Channel.choices)
    recipient = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("recipient"),
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="notifications",
    )
    webhook = models.ForeignKey(
        WebhookEndpoint, verbose_name=_("webhook"), null=True, blank=True, on_delete=models.CASCADE, related_name="+"
    )
    subject = models.CharField(_("subject"), max_length=200, blank=True)
    body = models.TextField(_("body"), blank=True)
    link = models.CharField(_("link"), max_length=300, blank=True)
    payload = models.JSONField(_("payload"), default=dict, blank=True)
    ticket = models.CharField(_("ticket"), max_length=24, blank=True)
    status = models.CharField(
        _("status"), max_length=16, choices=DeliveryStatus.choices, default=DeliveryStatus.PENDING
    )
    attempts = models.PositiveSmallIntegerField(_("attempts"), default=0)
    next_attempt_at = models.DateTimeField(_("next attempt"), default=timezone.now)
    claimed_at = models.DateTimeField(_("claimed at"), null=True, blank=True)
    sent_at = models.DateTimeField(_("sent at"), null=True, blank=True)
    read_at = models.DateTimeField(_("read at"), null=True, blank=True)
    last_error = models.TextField(_("last error"), blank=True)
    created_at = models.DateTimeField(_("created at"), default=timezone.now)

    class Meta:
        ordering = ["-created_at", "-pk"]
        verbose_name = _("notification")
        verbose_name_plural = _("notifications")
        indexes = [
            models.Index(fields=["status", "next_attempt_at"], name="notification_due"),
            models.Index(fields=["recipient", "channel", "status", "read_at"], name="notification_inbox"),
            models.Index(fields=["recipient", "ticket"], name="notification_ticket"),
        ]

    def __str__(self) -> str:
        from opscenter.core.notification_kinds import render

        return f"{self.get_channel_display()} · {render(self).subject}"
