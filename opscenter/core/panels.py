"""The kernel's own navigation entries and home-page panels."""

from typing import Any

from django.db.models import Count, Q
from django.http import HttpRequest
from django.utils.translation import gettext_lazy as _

from opscenter.core import outbox
from opscenter.core.choices import CIStatus
from opscenter.core.models import ConfigurationItem, Service
from opscenter.core.navigation import HomePanel, NavItem, register_nav, register_panel
from opscenter.core.notification_kinds import with_text
from opscenter.core.roles import AUDITOR, ENGINEERS, SUPERVISOR


def _notifications(request: HttpRequest) -> dict[str, Any]:
    return {"items": with_text(outbox.inbox(request.user).filter(read_at__isnull=True)[:5])}


def _profile(request: HttpRequest) -> dict[str, Any]:
    user = request.user
    return {"teams": list(user.teams.all()), "department": user.department}


def _catalogue(request: HttpRequest) -> dict[str, Any]:
    services = Service.objects.aggregate(total=Count("pk"), active=Count("pk", filter=Q(is_active=True)))
    cis = ConfigurationItem.objects.aggregate(
        total=Count("pk"),
        in_use=Count("pk", filter=Q(status=CIStatus.IN_USE)),
        maintenance=Count("pk", filter=Q(status=CIStatus.MAINTENANCE)),
    )
    return {"services": services, "cis": cis}


def register() -> None:
    register_nav(NavItem(_("My work"), "home", order=0))
    register_panel(HomePanel("notifications", _("Unread notifications"), "core/panels/notifications.html",
                             _notifications, order=900))
    register_panel(HomePanel("catalogue", _("Services and configuration items"), "core/panels/catalogue.html",
                             _catalogue, roles=(SUPERVISOR, AUDITOR, *ENGINEERS), order=950))
    register_panel(HomePanel("profile", _("My roles and teams"), "core/panels/profile.html", _profile,
                             order=990))


__all__ = ["register"]
