"""What incident management adds to other apps through the kernel's extension points (they never import
incidents' services): the open incidents a shift handover carries over."""

from datetime import datetime
from typing import Any

from django.db.models import Q
from django.urls import reverse

from incidents.choices import OPEN_STATES, State
from incidents.models import Incident
from opscenter.core import roles
from opscenter.core.extensions import HandoverEntry
from opscenter.core.roles import has_role

HANDOVER_LIMIT = 50


def open_incidents_for_handover(team: Any, shift_start: datetime, shift_end: datetime, user: Any
                                ) -> list[HandoverEntry]:
    """The open incidents the outgoing person hands over (those they may see): their team's and their own, and
    for a duty officer those no team has yet (still to classify and assign); the unclassified first, then by
    priority."""
    mine = Q(team=team) | Q(assignee=user)
    if has_role(user, roles.DUTY_OFFICER):
        mine |= Q(team__isnull=True)
    rows = (Incident.objects.visible_to(user).filter(mine, state__in=OPEN_STATES)
            .only("pk", "number", "title", "priority", "state")
            .order_by("priority", "created_at", "pk")[:HANDOVER_LIMIT])
    return [HandoverEntry(reference=incident.number,
                          title=f"{incident.priority} · {incident.title}" if incident.priority else incident.title,
                          status=State(incident.state).label,
                          url=reverse("incidents:incident-detail", args=[incident.pk]))
            for incident in rows]
