"""Business services and the configuration items they run on."""

from django.db import models
from django.utils.translation import gettext_lazy as _

from opscenter.core.choices import CIStatus, CIType, Criticality


class Service(models.Model):
    """A business service the IT center runs for the departments."""

    code = models.SlugField(_("code"), max_length=40, unique=True)
    name = models.CharField(_("name"), max_length=160, unique=True)
    description = models.TextField(_("description"), blank=True)
    criticality = models.CharField(
        _("criticality"), max_length=16, choices=Criticality.choices, default=Criticality.MEDIUM
    )
    owner_department = models.ForeignKey(
        "core.Department",
        verbose_name=_("owner department"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="services",
    )
    support_team = models.ForeignKey(
        "core.Team",
        verbose_name=_("support team"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="services",
    )
    service_hours = models.CharField(
        _("service hours"), max_length=120, blank=True, help_text=_("For example 7×24 or Mon–Fri 08:00–17:00")
    )
    is_active = models.BooleanField(_("active"), default=True)

    class Meta:
        ordering = ["name"]
        verbose_name = _("service")
        verbose_name_plural = _("services")

    def __str__(self) -> str:
        return self.name


class ConfigurationItem(models.Model):
    """Hardware, software, a network device or a desktop that supports services."""

    name = models.CharField(_("name"), max_length=160)
    ci_type = models.CharField(_("type"), max_length=24, choices=CIType.choices)
    asset_tag = models.CharField(_("asset tag"), max_length=64, unique=True, null=True, blank=True)
    serial_number = models.CharField(_("serial number"), max_length=80, blank=True)
    location = models.CharField(_("location"), max_length=160, blank=True)
    owner_team = models.ForeignKey(
        "core.Team",
        verbose_name=_("owner team"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="configuration_items",
    )
    owner = models.ForeignKey(
        "core.User",
        verbose_name=_("owner"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="owned_configuration_items",
    )
    status = models.CharField(_("status"), max_length=16, choices=CIStatus.choices, default=CIStatus.IN_USE)
    services = models.ManyToManyField(
        Service, verbose_name=_("services supported"), blank=True, related_name="configuration_items"
    )
    description = models.TextField(_("description"), blank=True)

    class Meta:
        ordering = ["name"]
        verbose_name = _("configuration item")
        verbose_name_plural = _("configuration items")
        indexes = [models.Index(fields=["ci_type", "status"])]

    def __str__(self) -> str:
        return f"{self.name} ({self.asset_tag})" if self.asset_tag else self.name
